# shellcheck shell=bash
# tests/integration/certs.sh: the certificates of the tests and benches
# that speak tls+tcp://, made with the openssl CLI: EC P-256, two days, a
# CA and the certificates it signs (each good as server and as client).
# Sourced; openssl's chatter goes to stderr, which callers send to a log.

# cert_ca DIR [NAME [CN]]: a CA, DIR/NAME.key and DIR/NAME.pem (NAME ca,
# CN "recon test NAME")
cert_ca() {
	local dir=$1 name=${2:-ca}
	mkdir -p "$dir" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$dir/$name.key" -out "$dir/$name.pem" -days 2 \
		-subj "/CN=${3:-recon test $name}" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}

# cert_issue DIR NAME CN SAN [CA]: DIR/NAME.key and DIR/NAME.pem, subject
# CN, subjectAltName SAN (e.g. DNS:hA or IP:127.0.0.1,DNS:127.0.0.1),
# signed by DIR/CA (ca)
cert_issue() {
	local dir=$1 name=$2 cn=$3 san=$4 ca=${5:-ca}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" \
		-subj "/CN=$cn" || return 1
	printf '%s\n' basicConstraints=CA:FALSE \
		keyUsage=critical,digitalSignature \
		extendedKeyUsage=serverAuth,clientAuth \
		"subjectAltName=$san" >"$dir/$name.ext" || return 1
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" \
		-CAkey "$dir/$ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/$name.ext" -out "$dir/$name.pem"
}
