/* Opening a file or directory on the user's desktop (tally open, tally report --open). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	/* an argv: no shell sees the path; "./" keeps a name like "-x.html" from reading as an option */
	char *dotted = path[0] == '-' ? malloc(strlen(path) + 3) : NULL;
	if (dotted)
		sprintf(dotted, "./%s", path);
	char *argv[] = {(char *)opener, dotted ? dotted : (char *)path, NULL};
	pid_t pid;
	int err = posix_spawnp(&pid, opener, NULL, NULL, argv, environ);
	free(dotted);
	if (err)
		return false;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
