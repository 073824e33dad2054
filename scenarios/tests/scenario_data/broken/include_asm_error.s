# An included file with a typo on line 3.
core0:
    movv rax, 1
    hlt
