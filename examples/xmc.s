# xmc.s: cross-modifying code without the SDM's protocol.
#
# Core 0 (a JIT) rewrites the immediate of `mov edi, 1` into 2, then publishes a flag.
# Core 1 keeps executing the patched instruction until it sees the flag, with no
# serializing instruction in between, so it can go on running the old bytes after
# the new ones are globally visible. synclab reports every such stale execution:
#   cargo run --release -p synclab -- run examples/xmc.s --ifetch lazy
# The SDM's cross-modifying-code protocol puts a serializing instruction (`cpuid`,
# `serialize`) between seeing the flag and executing the new code.
.intel_syntax noprefix

.text
core0:
    mov     byte ptr [rip + patch + 1], 2     # new immediate: mov edi, 2
    mov     dword ptr [rip + flag], 1         # publish
    hlt

core1:
patch:
    mov     edi, 1                            # the instruction being rewritten
    mov     esi, dword ptr [rip + flag]
    test    esi, esi
    jz      patch
    hlt

.data
flag:
    .long   0
