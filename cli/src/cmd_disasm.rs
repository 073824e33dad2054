//! `synclab disasm`: print a flat binary as Intel-syntax instructions.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::diagnostics::CliError;

/// Arguments of `synclab disasm`.
#[derive(Args, Debug)]
pub struct DisasmArgs {
    /// Flat binary file (e.g. written by `synclab asm -o`).
    pub file: PathBuf,
    /// Address of the first byte (decimal or 0x-prefixed hex).
    #[arg(long, default_value = "0x400000", value_parser = parse_address, value_name = "ADDR")]
    pub base: u64,
}

/// Parse a decimal or `0x`-prefixed hexadecimal address.
pub fn parse_address(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("`{s}` is not an address; write decimal or hex like 0x400000"))
}

/// Run `synclab disasm`.
pub fn run(args: &DisasmArgs) -> Result<ExitCode, CliError> {
    let bytes = std::fs::read(&args.file).map_err(|e| {
        CliError::bad_input(
            format!("cannot read {}: {e}", args.file.display()),
            "check the path",
        )
    })?;
    for line in isa::decode::disassemble(&bytes, args.base) {
        out!(
            "{:#010x}  {:<30} {}",
            line.addr,
            isa::decode::hex_bytes(&line.bytes),
            line.text
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses_parse_in_hex_and_decimal() {
        assert_eq!(parse_address("0x40_0000"), Ok(0x400000));
        assert_eq!(parse_address("4096"), Ok(4096));
        assert!(parse_address("0xzz").unwrap_err().contains("0x400000"));
    }
}
