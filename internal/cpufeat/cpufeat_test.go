package cpufeat

import "testing"

func TestMask(t *testing.T) {
	all := Features{AVX2: true, AVXVNNI: true, AVX512: true, VNNI: true, VBMI: true, VBMI2: true, AMX: true}
	arm := Features{NEON: true, DotProd: true}
	for _, test := range []struct {
		f    Features
		mask string
		want Features
	}{
		{all, "", all},
		{all, "noamx", Features{AVX2: true, AVXVNNI: true, AVX512: true, VNNI: true, VBMI: true, VBMI2: true}},
		{all, "avx2", Features{AVX2: true}},
		{all, "avxvnni", Features{AVX2: true, AVXVNNI: true}},
		{Features{AVX2: true, AVX512: true}, "avxvnni", Features{AVX2: true}},
		{all, "generic", Features{}},
		{all, "portable", Features{}},
		{all, "bogus", all},
		{arm, "neon", Features{NEON: true}},
		{arm, "avx2", arm},
	} {
		if got := test.f.Mask(test.mask); got != test.want {
			t.Errorf("%+v.Mask(%q) = %+v, want %+v", test.f, test.mask, got, test.want)
		}
	}
}

func TestVariants(t *testing.T) {
	all := Features{AVX2: true, AVXVNNI: true, AVX512: true, VNNI: true, VBMI: true, VBMI2: true, AMX: true}
	got := all.Variants()
	want := []string{"host", "noamx", "avx512", "avxvnni", "avx2", "generic"}
	if len(got) != len(want) {
		t.Fatalf("Variants() = %v, want names %v", got, want)
	}
	for i, v := range got {
		if v.Name != want[i] {
			t.Errorf("variant %d = %q, want %q", i, v.Name, want[i])
		}
	}
	for i, v := range got[2:] {
		if v.String() != want[i+2] {
			t.Errorf("variant %q: String() = %q", v.Name, v)
		}
	}
	if got[1].String() != "avx512vnni" {
		t.Errorf("noamx variant: String() = %q, want avx512vnni", got[1])
	}
	if n := len((Features{}).Variants()); n != 1 {
		t.Errorf("generic has %d variants, want 1", n)
	}
}

func TestHostConsistent(t *testing.T) {
	f := Detect("")
	if f.AVXVNNI && !f.AVX2 || f.VNNI && !f.AVX512 || f.VBMI && !f.AVX512 || f.VBMI2 && !f.AVX512 || f.AMX && !f.VNNI || f.AVX512 && !f.AVX2 || f.DotProd && !f.NEON {
		t.Errorf("Detect() = %+v: a set without the set it implies", f)
	}
	t.Logf("host: %v (%+v)", f, f)
}
