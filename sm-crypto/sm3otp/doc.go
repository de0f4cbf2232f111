// Package sm3otp computes the SM3-based one-time passwords (动态口令) of GM/T 0021-2012,
// 《动态口令密码应用技术规范》 (One time password application of cryptography algorithm),
// clause 6 (动态口令生成方式), with the SM3 truncation of clause 6.3.
//
// The computation, for a seed key K of at least 128 bits (clause 6.2):
//
//	T  = ⌊T0 / Tc⌋                time factor: Unix time T0 in seconds over the period Tc
//	                              (at most 60 s), 8 bytes big-endian
//	C  = event factor             a counter, 4 bytes big-endian
//	Q  = challenge factor         at least 4 bytes, ASCII
//	ID = T ‖ C ‖ Q                the factors in use, in that order, zero-padded at the end to
//	                              at least 128 bits (16 bytes)
//	S  = SM3(K ‖ ID)              256 bits (GB/T 32905-2016)
//	OD = Truncate(S)              S cut into eight 32-bit big-endian words S1 … S8,
//	                              OD = (S1 + S2 + … + S8) mod 2^32 (clause 6.3, SM3)
//	P  = OD mod 10^N              the N-digit password, N ≥ 6, written with leading zeros
//
// A factor that is not used takes no bytes of ID (Factors leaves it nil), as in the
// standard's informative C implementation (Appendix A.1). tongban's login uses the time
// factor alone (Generate, Validate): ID = T ‖ 8 zero bytes.
//
// Test vectors. The standard's Appendix B (informative) lists input and output examples,
// but its text is sold, not published, and no copy could be found to cite; the vectors in
// this package's tests are therefore not official. They were computed independently of this
// package — the SM3 of OpenSSL 3 (`openssl dgst -sm3`, a separate implementation of
// GB/T 32905) over K ‖ ID built byte by byte, then the truncation by a short script — for
// the cases of the Appendix A code (time only; time, event and challenge; event and
// challenge), and the tests also run OpenSSL at test time, where it is installed, over
// inputs the tests vary. The layout of ID and the truncation agree with two independent
// open-source implementations read for the purpose: the standard's Appendix A C code as
// carried in the GmSSL-TOTP project (lephones/GmSSL-TOTP, totp/src/sm3_dpwd.cpp), and the
// SM3 token of a React Native authenticator built on the sm-crypto npm package. GmSSL 2's
// own OTP_generate (crypto/otp/otp.c) differs: it copies the time factor in the host's byte
// order (little-endian on x86), so its passwords are not those of the standard there.
//
// Errors: ErrShortKey, ErrDigits, ErrShortChallenge, ErrPeriod and ErrNoFactor, wrapped
// with detail; test with errors.Is.
package sm3otp
