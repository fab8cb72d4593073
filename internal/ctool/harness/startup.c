/* Minimal Cortex-M start-up for qemu's MPS2 boards: the vector table; newlib's
   semihosting crt0 (_start, from --specs=rdimon.specs) clears .bss, sets up
   stdio on the host's files and calls main. .data is loaded into RAM by qemu's ELF loader (no copy from flash). */
#include <stdint.h>

extern uint32_t __stack_top;
extern void _start(void);

/* Enables the FPU (CPACR: full access to CP10 and CP11) before any code
   that the hard-float ABI compiles to FPU instructions, then starts newlib. */
static void reset(void)
{
	*(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	_start();
}

static void fault(void)
{
	for (;;) {
	}
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
	(void (*)(void))(&__stack_top), reset, fault, fault, fault, fault, fault, 0,
	0, 0, 0, fault, fault, 0, fault, fault,
};
