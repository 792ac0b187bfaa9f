/* Cancellation: on SIGTERM, SIGINT or SIGHUP (Galaxy cancelling a job, Ctrl-C), the temporary
 * files registered here are removed and the run ends with 128+signal. */
#ifndef HF_CANCEL_H
#define HF_CANCEL_H

/* Installs the handlers (a signal ignored when the program started stays ignored). The
 * handler does only what is async-signal-safe: unlinkat(2) of the registered names, _exit(2).
 * Called once by hf_cli_init. */
void hf_cancel_install(void);

/* Registers a temporary file to remove if the run is cancelled before it is renamed to its
 * final name or removed; returns a ticket for hf_cancel_untrack, or -1 when every slot is
 * taken or the path is too long (the file is then only not removed on cancellation).
 * Thread-safe. A relative path is taken from the working folder, which no binary changes. */
int hf_cancel_track(const char *path);
/* The same for a name in the folder dirfd, which must stay open while it is registered. */
int hf_cancel_track_at(int dirfd, const char *name);
/* Forgets a registration (call it once the file has its final name or is gone); -1 is a
 * no-op. */
void hf_cancel_untrack(int ticket);

#endif
