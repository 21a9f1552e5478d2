// Preloaded (--require) into the service when the bench runs with --cpu-prof: exits on SIGTERM
// with process.exit, which writes the CPU profile; Nest's own handler re-raises the signal,
// and a process that a signal ends writes none.
process.once('SIGTERM', () => process.exit(0));
