# sb.s: store buffering, the one reordering x86-TSO allows.
#
# Each core stores 1 to its own flag, then reads the other's. Under sequential
# consistency at least one core reads 1; on x86 both can read 0, because each
# store waits in its core's store buffer while the load runs ahead. Try seeds:
#   cargo run --release -p synclab -- run examples/sb.s --jitter 400 --seed 1
# and look for rax = 0 on both cores. Put `mfence` between the store and the load
# and the (0, 0) outcome disappears.
.intel_syntax noprefix

.text
core0:
    mov     dword ptr [rip + x], 1
    mov     eax, dword ptr [rip + y]
    hlt

core1:
    mov     dword ptr [rip + y], 1
    mov     eax, dword ptr [rip + x]
    hlt

.data
x:  .long 0
    .align 64                       # keep the flags on separate cache lines
y:  .long 0
