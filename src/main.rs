fn main() -> std::process::ExitCode {
    signpost::cli::main()
}
