package brdoc

import "math/bits"

// A generator space: bases of width symbols in radix, minus the radix bases
// made of one repeated symbol. Seeds are spread over the space with an affine
// permutation (mul coprime with size), so consecutive seeds give unrelated
// looking values while distinct seeds below size still give distinct values.
type seedSpace struct {
	radix, width uint64
	size         uint64 // radix^width - radix
	mul, add     uint64
}

var (
	cpfSpace       = seedSpace{radix: 10, width: 9, size: 999_999_990, mul: 618_033_983, add: 414_213_558}
	cnpjSpace      = seedSpace{radix: 10, width: 12, size: 999_999_999_990, mul: 618_033_988_747, add: 414_213_562_368}
	cnpjAlnumSpace = seedSpace{radix: 36, width: 12, size: 4_738_381_338_321_616_860, mul: 2_928_480_718_740_974_107, add: 1_962_701_814_028_390_656}
)

// base returns the base for seed n, written in digits (and, for radix 36,
// upper-case letters) into dst.
func (sp seedSpace) base(n uint64, dst []byte) {
	hi, lo := bits.Mul64(sp.mul, n%sp.size)
	lo, carry := bits.Add64(lo, sp.add, 0)
	v := bits.Rem64(hi+carry, lo, sp.size)
	// Skip the repeated-symbol bases (0…0, 1…1, …): v is a rank among the
	// remaining ones, so count each excluded value at or below it.
	var rep uint64 // 11…1 in radix
	for i := uint64(0); i < sp.width; i++ {
		rep = rep*sp.radix + 1
	}
	for d := uint64(0); d < sp.radix && v >= d*rep; d++ {
		v++
	}
	for i := int(sp.width) - 1; i >= 0; i-- { //nolint:gosec // G115: width is 9 or 12 (the spaces above)
		dst[i] = symbol(v % sp.radix)
		v /= sp.radix
	}
}

// symbol is the digit or letter for v, below the radix (at most 36).
func symbol(v uint64) byte {
	if v < 10 {
		return byte('0' + v)
	}
	return byte('A' + v - 10) //nolint:gosec // G115: v < 36, so the result is 'A'..'Z'
}

// CPFFromSeed returns a valid CPF chosen by n. The same seed always gives the
// same CPF, and seeds that differ modulo 999,999,990 give different CPFs, so
// tests can draw as many distinct synthetic CPFs as they need.
func CPFFromSeed(n uint64) string {
	var d [cpfLen]byte
	cpfSpace.base(n, d[:9])
	d[9], d[10] = cpfCheckDigits(d[:9])
	return string(d[:])
}

// CNPJFromSeed returns a valid CNPJ chosen by n, numeric or, when alnum is
// true, drawn from the alphanumeric space of IN RFB 2.229/2024 (most such
// values contain letters, not all). The same (n, alnum) always gives the same
// CNPJ; seeds below the space size (10^12-10 numeric, 36^12-36 alphanumeric)
// give distinct values.
func CNPJFromSeed(n uint64, alnum bool) string {
	sp := cnpjSpace
	if alnum {
		sp = cnpjAlnumSpace
	}
	var v [cnpjLen]byte
	sp.base(n, v[:12])
	v[12], v[13] = cnpjCheckDigits(v[:12])
	return string(v[:])
}
