package brdoc

import "testing"

func TestValidPIS(t *testing.T) {
	// 1234567890: 1·3+2·2+3·9+4·8+5·7+6·6+7·5+8·4+9·3+0·2 = 231, 231 mod 11 = 0,
	// 11-0 = 11, which becomes 0.
	// 1200000000: 1·3+2·2 = 7, 11-7 = 4.
	for _, v := range []string{"12345678900", "12000000004", "120.00000.00-4"} {
		if !ValidPIS(v) {
			t.Errorf("ValidPIS(%q) = false", v)
		}
	}
	for _, v := range []string{"", "12345678901", "12000000005", "00000000000", "1200000000", "120000000045", "1200000000a"} {
		if ValidPIS(v) {
			t.Errorf("ValidPIS(%q) = true", v)
		}
	}
}

func TestValidCNH(t *testing.T) {
	// 026503064: first 0·9+2·8+6·7+5·6+0·5+3·4+0·3+6·2+4·1 = 116, mod 11 = 6;
	// second 0·1+2·2+6·3+5·4+0·5+3·6+0·7+6·8+4·9 = 144, mod 11 = 1.
	// 123456789: first 165 mod 11 = 0; second 285 mod 11 = 10, which becomes 0.
	for _, v := range []string{"02650306461", "12345678900", "026.503.064-61"} {
		if !ValidCNH(v) {
			t.Errorf("ValidCNH(%q) = false", v)
		}
	}
	for _, v := range []string{"", "02650306462", "02650306471", "11111111111", "0265030646", "0265030646a"} {
		if ValidCNH(v) {
			t.Errorf("ValidCNH(%q) = true", v)
		}
	}
}

func TestCNHDiscount(t *testing.T) {
	// When the first sum is 10 mod 11 the first digit becomes 0 and the second
	// is discounted by 2 (wrapping below 0). Find such a base and check it.
	for b := 1; b < 100000; b++ {
		base := []byte("000000000")
		for i, x := 8, b; i >= 0 && x > 0; i, x = i-1, x/10 {
			base[i] = byte('0' + x%10)
		}
		s1, s2 := 0, 0
		for i := range 9 {
			s1 += int(base[i]-'0') * (9 - i)
			s2 += int(base[i]-'0') * (i + 1)
		}
		if s1%11 != 10 {
			continue
		}
		want := (s2%11 - 2 + 11) % 11
		if want >= 10 {
			want = 0
		}
		dv1, dv2 := cnhCheckDigits(base)
		if dv1 != 0 || int(dv2) != want {
			t.Fatalf("cnhCheckDigits(%s) = %d%d, want 0%d", base, dv1, dv2, want)
		}
		return
	}
	t.Fatal("no base with an overflowing first digit found")
}
