package train

import "testing"

// Schedules with non-finite or non-positive parameters are refused (NaN
// compared false with the old "gamma <= 0" and slipped through).
func TestParseScheduleRejects(t *testing.T) {
	for _, s := range []string{"step:2:NaN", "step:2:+Inf", "step:2:0", "step:0:0.5", "cosine:NaN", "cosine:Inf", "cosine:-1", "linear", "step:2", "constant:1"} {
		if _, err := ParseSchedule(s, 4); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", s)
		}
	}
	for _, s := range []string{"", "constant", "step:2:0.5", "cosine", "cosine:0.001"} {
		if _, err := ParseSchedule(s, 4); err != nil {
			t.Errorf("ParseSchedule(%q): %v", s, err)
		}
	}
}
