package ctool

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// InstrPerTick checked against a loop of known length: 10^6 iterations of
// "subs; bne" are 2·10^6 instructions, so 50000 ticks (one tick of
// resolution).
func TestInstrPerTick(t *testing.T) {
	if why := MissingARM(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	if err := WriteHarness(dir); err != nil {
		t.Fatal(err)
	}
	prog := `#include <stdio.h>
#include <stdint.h>
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
int main(void)
{
	uint32_t n = 1000000, t;
	SYST_CSR = 0;
	SYST_RVR = 0xFFFFFFu;
	SYST_CVR = 0;
	SYST_CSR = 5;
	__asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
	t = 0xFFFFFFu - SYST_CVR;
	printf("ticks %lu\n", (unsigned long)t);
	return 0;
}
`
	if err := os.WriteFile(filepath.Join(dir, "cal.c"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(append([]string{"-std=c99", "-O2"}, ARMFlags...), "--specs=rdimon.specs", "-T", "mps2.ld",
		"-Wl,--defsym=__flash_size=1048576", "-Wl,--defsym=__ram_size=262144", "-o", "cal.elf", "startup.c", "cal.c")
	if err := Run(ctx, dir, "arm-none-eabi-gcc", args...); err != nil {
		t.Fatal(err)
	}
	out, err := run(ctx, dir, "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
		"-icount", "shift=0", "-semihosting-config", "enable=on,target=native", "-kernel", "cal.elf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`ticks (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("qemu printed %q", out)
	}
	ticks, _ := strconv.Atoi(m[1])
	if instr := ticks * InstrPerTick; instr < 2000000-2*InstrPerTick || instr > 2000000+2*InstrPerTick {
		t.Errorf("%d ticks · %d = %d instructions, want 2000000 ± %d", ticks, InstrPerTick, instr, 2*InstrPerTick)
	}
}

func TestWriteHarness(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHarness(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.c", "startup.c", "mps2.ld"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
