# SPDX-License-Identifier: Apache-2.0
"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost, made
with the openssl command line, so a client under test verifies the simulator's TLS the way it
would verify DingTalk's (against a CA file, with hostname checking)."""

import os
import secrets
import subprocess

_CA = """[req]
distinguished_name = dn
prompt = no
x509_extensions = ca
[dn]
CN = Barra throwaway test CA
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_SERVER = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_cert(tmpdir):
    """Writes ca.pem, server.pem and server.key (P-256, valid 2 days) into tmpdir and returns
    (ca_file, cert_file, key_file)."""
    p = lambda name: os.path.join(tmpdir, name)  # noqa: E731
    for name, text in (("ca.cnf", _CA), ("server.cnf", _SERVER)):
        with open(p(name), "w") as f:
            f.write(text)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)
    run("req", "-x509", "-config", p("ca.cnf"), *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"),
        "-days", "2")
    run("req", "-new", "-config", p("server.cnf"), *ec, "-keyout", p("server.key"),
        "-out", p("server.csr"))
    run("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
        "-set_serial", str(secrets.randbits(63)), "-days", "2", "-extfile", p("server.cnf"),
        "-extensions", "server", "-out", p("server.pem"))
    return p("ca.pem"), p("server.pem"), p("server.key")
