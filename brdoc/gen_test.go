package brdoc

import "testing"

func TestPhoneFromSeed(t *testing.T) {
	for _, mobile := range []bool{true, false} {
		seen := map[string]bool{}
		for n := uint64(0); n < 20_000; n++ {
			v := PhoneFromSeed(n, mobile)
			got, err := NormalizePhone(v)
			if err != nil || got != v {
				t.Fatalf("PhoneFromSeed(%d, %v) = %q: not a normalized phone (%v)", n, mobile, v, err)
			}
			if wantLen := map[bool]int{true: 14, false: 13}[mobile]; len(v) != wantLen {
				t.Fatalf("PhoneFromSeed(%d, %v) = %q has %d characters, want %d", n, mobile, v, len(v), wantLen)
			}
			seen[v] = true
		}
		if len(seen) != 20_000 {
			t.Errorf("mobile=%v: %d distinct numbers from 20000 seeds", mobile, len(seen))
		}
	}
	if PhoneFromSeed(^uint64(0), true) == "" || PhoneFromSeed(^uint64(0), false) == "" {
		t.Error("extreme seed gave no number")
	}
}

func TestCEPFromSeed(t *testing.T) {
	for _, n := range []uint64{0, 1, 98_999_999, 99_000_000, ^uint64(0), 123_456_789} {
		v := CEPFromSeed(n)
		if got, err := NormalizeCEP(v); err != nil || got != v || v < "01000000" {
			t.Errorf("CEPFromSeed(%d) = %q: not a normalized CEP in range (%v)", n, v, err)
		}
	}
	if CEPFromSeed(5) == CEPFromSeed(6) {
		t.Error("consecutive seeds gave the same CEP")
	}
}

func TestPISAndCNHFromSeed(t *testing.T) {
	for n := uint64(0); n < 20_000; n++ {
		if v := PISFromSeed(n); !ValidPIS(v) {
			t.Fatalf("PISFromSeed(%d) = %q is not valid", n, v)
		}
		if v := CNHFromSeed(n); !ValidCNH(v) {
			t.Fatalf("CNHFromSeed(%d) = %q is not valid", n, v)
		}
	}
}
