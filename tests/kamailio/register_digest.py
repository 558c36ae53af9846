#!/usr/bin/env python3
"""REGISTER to the test kamailio with digest auth, MD5 or SHA-256 (RFC 8760), stdlib only.

sipp 3.6 (Debian bookworm) computes MD5 digests only, so this is how selftest.sh checks an
instance started with AUTH_ALGORITHM=SHA-256. It answers whatever algorithm the 401 asks for.

  register_digest.py KPORT LOCAL_PORT [USER] [PASSWORD] [EXPECT] [AOR_USER]

USER/PASSWORD are the digest credentials (default frontdesk / s3cret-test); AOR_USER is the
user registered in To and Contact (default USER). EXPECT is the final status wanted
(default 200). Exit 0 when it came, 1 otherwise.
Prints the challenge and the final status line.
"""
import hashlib
import os
import re
import socket
import sys


def digest(alg, text):
    name = "sha256" if alg.upper().startswith("SHA-256") else "md5"
    return hashlib.new(name, text.encode()).hexdigest()


def main():
    kport = int(sys.argv[1])
    lport = int(sys.argv[2])
    user = sys.argv[3] if len(sys.argv) > 3 else "frontdesk"
    password = sys.argv[4] if len(sys.argv) > 4 else "s3cret-test"
    expect = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    aor = sys.argv[6] if len(sys.argv) > 6 else user

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", lport))
    sock.settimeout(3)
    uri = f"sip:127.0.0.1:{kport}"
    call_id = f"{os.urandom(6).hex()}@127.0.0.1"
    tag = os.urandom(4).hex()

    def request(cseq, extra=""):
        msg = (
            f"REGISTER {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{os.urandom(6).hex()};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{aor}@clinic.test>;tag={tag}\r\n"
            f"To: <sip:{aor}@clinic.test>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:{aor}@127.0.0.1:{lport}>\r\nExpires: 3600\r\n"
            f"{extra}Content-Length: 0\r\n\r\n"
        )
        sock.sendto(msg.encode(), ("127.0.0.1", kport))
        while True:
            data = sock.recv(65535).decode(errors="replace")
            status = int(data.split(" ", 2)[1])
            if status >= 200:
                return status, data

    status, reply = request(1)
    if status != 401:
        print(f"expected 401, got {reply.splitlines()[0]}")
        return 1
    challenge = re.search(r"^WWW-Authenticate:\s*Digest\s+(.*)$", reply, re.M | re.I).group(1)
    print(f"challenge: {challenge}")
    params = dict((k.lower(), v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', challenge))
    alg = params.get("algorithm", "MD5")
    realm, nonce = params["realm"], params["nonce"]
    ha1 = digest(alg, f"{user}:{realm}:{password}")
    ha2 = digest(alg, f"REGISTER:{uri}")
    fields = f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm={alg}'
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = os.urandom(4).hex(), "00000001"
        response = digest(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += f", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
    else:
        response = digest(alg, f"{ha1}:{nonce}:{ha2}")
    status, reply = request(2, f'Authorization: Digest {fields}, response="{response}"\r\n')
    print(f"final: {reply.splitlines()[0]}")
    contact = re.search(r"^(Contact|m):.*$", reply, re.M | re.I)
    if contact:
        print(contact.group(0))
    return 0 if status == expect else 1


if __name__ == "__main__":
    sys.exit(main())
