/* The table of commands: `tally help` lists them in this order. */
#include <string.h>

#include "cli/cli.h"

const cli_command cli_commands[] = {
	{"run", cmd_run, "run a script as a tracked run", cmd_run_usage, cmd_run_usage_more},
	{"runs", cmd_runs, "list runs, newest first", cmd_runs_usage, NULL},
	{"tune", cmd_tune, "run a script over a search space (grid, random, TPE), trials in parallel, early stopping",
	 cmd_tune_usage, cmd_tune_usage_more},
	{"sweeps", cmd_sweeps, "list the sweeps tally tune recorded", cmd_sweeps_usage, NULL},
	{"show", cmd_show, "show everything recorded about a run", cmd_show_usage, NULL},
	{"compare", cmd_compare, "runs side by side: attributes, flags, scalars that differ", cmd_compare_usage, NULL},
	{"diff", cmd_diff, "what changed between two runs: attributes, flags, sources, output", cmd_diff_usage, NULL},
	{"view", cmd_view, "runs in a browser: a live web app and its JSON API", cmd_view_usage, NULL},
	{"report", cmd_report, "a self-contained HTML report of a run, or a comparison of runs", cmd_report_usage, NULL},
	{"scalars", cmd_scalars, "list the scalar points or summaries of runs", cmd_scalars_usage, NULL},
	{"plot", cmd_plot, "chart a scalar over steps in the terminal", cmd_plot_usage, NULL},
	{"tensorboard", cmd_tensorboard, "show runs in TensorBoard (writes their event files on demand)",
	 cmd_tensorboard_usage, NULL},
	{"ls", cmd_ls, "list the files a run produced", cmd_ls_usage, NULL},
	{"label", cmd_label, "set or clear the label of runs", cmd_label_usage, NULL},
	{"tag", cmd_tag, "add (+TAG) and remove (-TAG) tags of runs", cmd_tag_usage, NULL},
	{"mark", cmd_mark, "mark runs", cmd_mark_usage, NULL},
	{"unmark", cmd_unmark, "take the mark from runs", cmd_mark_usage, NULL},
	{"comment", cmd_comment, "add, list and delete comments of runs", cmd_comment_usage, NULL},
	{"lookup", cmd_lookup, "print one recorded value of a run, for scripts", cmd_lookup_usage, NULL},
	{"reproduce", cmd_reproduce, "print the steps to re-create a run, or (--run) re-run it", cmd_reproduce_usage, NULL},
	{"delete", cmd_delete, "move runs into the archive (tally restore brings them back)", cmd_delete_usage, NULL},
	{"restore", cmd_restore, "bring archived runs back", cmd_restore_usage, NULL},
	{"purge", cmd_purge, "remove archived runs for good", cmd_purge_usage, NULL},
	{"stop", cmd_stop, "stop running runs", cmd_stop_usage, NULL},
	{"copy", cmd_copy, "copy runs, or the files they made, to a directory", cmd_copy_usage, NULL},
	{"export", cmd_export, "write runs into a .tar.gz/.zip file or a directory", cmd_export_usage, NULL},
	{"import", cmd_import, "bring in runs from a file or directory tally export made", cmd_import_usage, NULL},
	{"cat", cmd_cat, "print the console output a run recorded", cmd_cat_usage, NULL},
	{"tail", cmd_tail, "print the end of a run's output; -f follows it", cmd_tail_usage, NULL},
	{"open", cmd_open, "open a run's directory with the desktop's opener", cmd_open_usage, NULL},
	{"watch", cmd_watch, "follow a running run: output and scalars per step", cmd_watch_usage, NULL},
	{"flags", cmd_flags, "show the flags a script declares", cmd_flags_usage, NULL},
	{"reindex", cmd_reindex, "rebuild the index from the run directories", cmd_reindex_usage, NULL},
};

const size_t cli_n_commands = sizeof cli_commands / sizeof *cli_commands;

const cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (!strcmp(cli_commands[i].name, name))
			return &cli_commands[i];
	return NULL;
}
