# SPDX-License-Identifier: Apache-2.0
"""DingTalk's side of the HTTP event push, written from reference/dingtalk.md (sections 1.3-1.6)
with Python's hashlib and python3-cryptography, sharing nothing with Barra's C code. Importing it
checks it against the official test vectors first, so a test never relies on a simulator that
does not speak the real protocol."""

import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def derive_key(aes_key):
    return base64.b64decode(aes_key + "=")


def signature(token, timestamp, nonce, encrypt):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def encrypt(key, owner, message, random=None):
    random = random or os.urandom(16)
    body = random + struct.pack(">I", len(message)) + message + owner.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


def decrypt(key, owner, text):
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(text)) + dec.finalize()
    plain = plain[:-plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    message, rest = plain[20:20 + length], plain[20 + length:]
    if rest != owner.encode():
        raise ValueError("owner key mismatch")
    return message


def _self_test():
    # Vector A (the official Python sample) and vector C (the reply example of the docs' FAQ).
    key = derive_key("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7")
    assert key.hex() == "62e7b411f74de7dd3473571ee5c7fa035e7673adc30ded7cd3c6bad1ce5e71de"
    a = ("0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxx"
         "OK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3")
    assert signature("mryue", "1608001896814", "WL4PK6yA", a) == "03044561471240d4a14bb09372dfcfd4fd0e40cb"
    assert decrypt(key, "ding6ccabc44d2c8d38b", a) == b'{"EventType":"check_url"}'
    assert encrypt(key, "ding6ccabc44d2c8d38b", b'{"EventType":"check_url"}', b"l7Y3EcX2CU5w8av3") == a
    key = derive_key("1234567890123456789012345678901234567890123")
    c = "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA=="
    assert signature("123456", "1614767836", "A7Co0cJLMzIDtMMI", c) == "9a95a004dd16f5c307e849b994173f76aa26e5eb"
    assert decrypt(key, "dingsnotzck6pm5veliw", c) == b"success"


_self_test()
