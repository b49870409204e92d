/* Opening a file or directory on the user's desktop (tally open, tally report --open). */
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cli/cli.h"

extern char **environ;

/* The desktop's opener, or NULL when there is no desktop to open things on. */
static const char *desktop_opener(void)
{
#ifdef __APPLE__
	return "open";
#else
	const char *x = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
	return (x && *x) || (wayland && *wayland) ? "xdg-open" : NULL;
#endif
}

bool cli_open_on_desktop(const char *path)
{
	const char *opener = desktop_opener();
	if (!opener)
		return false;
	char *argv[] = {(char *)opener, (char *)path, NULL}; /* an argv: no shell sees the path */
	pid_t pid;
	if (posix_spawnp(&pid, opener, NULL, NULL, argv, environ))
		return false;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
