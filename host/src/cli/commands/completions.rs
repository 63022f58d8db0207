//! `mrhost completions SHELL`: a completion script, or the man page, generated from the
//! clap definitions (so they cannot drift from `--help`).

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs};
use crate::cli::exit;

/// Print the completion script for `args.shell`, or the man page (`man`).
pub fn completions(args: &CompletionsArgs) -> Result<i32> {
    use clap_complete::Shell;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match args.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "elvish" => Shell::Elvish,
        "powershell" => Shell::PowerShell,
        _ => {
            clap_mangen::Man::new(cmd).render(&mut out)?;
            return Ok(exit::OK);
        }
    };
    clap_complete::generate(shell, &mut cmd, "mrhost", &mut out);
    Ok(exit::OK)
}
