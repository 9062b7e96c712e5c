#ifndef TIMEBOK_COPENSSL_SHIM_H
#define TIMEBOK_COPENSSL_SHIM_H

// The system's OpenSSL libcrypto, for the one operation where it is measurably faster than
// swift-crypto's BoringSSL: the RSA-2048 private-key operation of a signature (OpenSSL 3 has
// AVX-512 IFMA code for it; see TimebokSigning/RSASigner.swift). Everything else uses swift-crypto.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#endif
