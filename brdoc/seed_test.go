package brdoc

import (
	"math/big"
	"testing"
)

func TestSeedSpaces(t *testing.T) {
	for name, sp := range map[string]seedSpace{"cpf": cpfSpace, "cnpj": cnpjSpace, "cnpj alnum": cnpjAlnumSpace} {
		full := new(big.Int).Exp(new(big.Int).SetUint64(sp.radix), new(big.Int).SetUint64(sp.width), nil)
		size := full.Sub(full, new(big.Int).SetUint64(sp.radix))
		if size.Cmp(new(big.Int).SetUint64(sp.size)) != 0 {
			t.Errorf("%s: size = %d, want radix^width - radix = %s", name, sp.size, size)
		}
		// The permutation is a bijection only when mul is coprime with size.
		gcd := new(big.Int).GCD(nil, nil, new(big.Int).SetUint64(sp.mul), size)
		if gcd.Cmp(big.NewInt(1)) != 0 {
			t.Errorf("%s: gcd(mul, size) = %s, want 1", name, gcd)
		}
		if sp.add >= sp.size || sp.mul >= sp.size {
			t.Errorf("%s: mul and add must be below size", name)
		}
	}
}

func TestCPFFromSeed(t *testing.T) {
	seen := make(map[string]uint64)
	for n := uint64(0); n < 100_000; n++ {
		v := CPFFromSeed(n)
		if !ValidCPF(v) {
			t.Fatalf("CPFFromSeed(%d) = %q is not valid", n, v)
		}
		if prev, dup := seen[v]; dup {
			t.Fatalf("CPFFromSeed(%d) = CPFFromSeed(%d) = %q", n, prev, v)
		}
		seen[v] = n
	}
	if first, again := CPFFromSeed(42), CPFFromSeed(42); first != again {
		t.Error("CPFFromSeed is not deterministic")
	}
	if CPFFromSeed(7) != CPFFromSeed(7+cpfSpace.size) {
		t.Error("CPFFromSeed should wrap around at the space size")
	}
	// The extremes of the uint64 range still give valid values.
	for _, n := range []uint64{^uint64(0), ^uint64(0) - 1, cpfSpace.size - 1, cpfSpace.size} {
		if v := CPFFromSeed(n); !ValidCPF(v) {
			t.Errorf("CPFFromSeed(%d) = %q is not valid", n, v)
		}
	}
}

func TestCNPJFromSeed(t *testing.T) {
	for _, alnum := range []bool{false, true} {
		seen := make(map[string]uint64)
		letters := 0
		for n := uint64(0); n < 50_000; n++ {
			v := CNPJFromSeed(n, alnum)
			if !ValidCNPJ(v) {
				t.Fatalf("CNPJFromSeed(%d, %v) = %q is not valid", n, alnum, v)
			}
			if prev, dup := seen[v]; dup {
				t.Fatalf("CNPJFromSeed(%d, %v) = CNPJFromSeed(%d) = %q", n, alnum, prev, v)
			}
			seen[v] = n
			if !allDigits(v) {
				letters++
			}
		}
		if !alnum && letters > 0 {
			t.Errorf("numeric CNPJFromSeed produced %d values with letters", letters)
		}
		if alnum && letters < 45_000 {
			t.Errorf("alphanumeric CNPJFromSeed produced only %d values with letters", letters)
		}
		for _, n := range []uint64{^uint64(0), cnpjAlnumSpace.size - 1, cnpjSpace.size - 1} {
			if v := CNPJFromSeed(n, alnum); !ValidCNPJ(v) {
				t.Errorf("CNPJFromSeed(%d, %v) = %q is not valid", n, alnum, v)
			}
		}
	}
}

func TestSeedSkipsRepeatedBases(t *testing.T) {
	// Every rank maps into the space without landing on 0…0, 1…1, …, 9…9,
	// including the first and last ranks.
	sp := seedSpace{radix: 10, width: 3, size: 990, mul: 1, add: 0}
	seen := map[string]bool{}
	for n := uint64(0); n < sp.size; n++ {
		var b [3]byte
		sp.base(n, b[:])
		if repeated(b[:]) {
			t.Fatalf("rank %d gave the repeated base %s", n, b)
		}
		if seen[string(b[:])] {
			t.Fatalf("rank %d gave %s twice", n, b)
		}
		seen[string(b[:])] = true
	}
}
