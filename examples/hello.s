# hello.s: the smallest useful synclab program.
#
# Sums the 16-bit words of a table in a loop, stores the total, then halts
# (`hlt` ends a core's program in synclab). Run it with:
#   cargo run --release -p synclab -- run examples/hello.s
.intel_syntax noprefix

.text
_start:
    lea     rsi, [rip + table]      # rsi -> first word
    mov     ecx, 8                  # eight entries
    xor     eax, eax                # running total
.Lnext:
    movzx   edx, word ptr [rsi]
    add     eax, edx
    add     rsi, 2
    dec     ecx
    jnz     .Lnext
    mov     dword ptr [rip + total], eax
    hlt

.data
table:
    .word   1, 2, 3, 5, 8, 13, 21, 34
total:
    .long   0
