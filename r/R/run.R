#' Run a training script
#'
#' Runs `file` as a tracked run with the `tally` command, in a new run
#' directory, and records its flags, output, metrics, source code and outcome.
#' The script's output comes into the console as it is printed (unless
#' `echo = FALSE`); Ctrl-C stops the run, which is recorded as terminated.
#' A script that fails raises an R error with the script's error message.
#'
#' @param file Path to the training script (default `"train.R"`).
#' @param context Run context (kept for tfruns' signature; runs are local).
#' @param config The configuration of a flags file to use (default: the
#'   `R_CONFIG_ACTIVE` environment variable, else `"default"`).
#' @param flags Named list with flag values (see [flags()]), the path of a
#'   YAML file of flag values, or a data frame with a run per row (as
#'   guildai's `guild_run()` takes).
#' @param properties Named character vector of run properties, recorded as
#'   the run's label (`label`) and tags (the others, as `name=value`).
#' @param run_dir Kept for tfruns' signature: tally names each run directory
#'   itself (`runs/<id>`), so a value other than `NULL` is an error.
#' @param echo Show the script's output in the console.
#' @param view View the run's report afterwards: `TRUE`, `FALSE`, `"save"`
#'   (save `report.html` into the run) or `"auto"` (view at an interactive
#'   top level).
#' @param envir,encoding Kept for tfruns' signature (the script runs in a
#'   process of its own).
#' @return The run, invisibly: a single-row data frame as [ls_runs()] gives
#'   (one row per run for a data frame of flags).
#' @examples
#' \dontrun{
#' training_run("train.R", flags = list(dropout = 0.3))
#' }
#' @export
training_run <- function(file = "train.R", context = "local",
                         config = Sys.getenv("R_CONFIG_ACTIVE", unset = "default"), flags = NULL,
                         properties = NULL, run_dir = NULL, echo = TRUE, view = "auto",
                         envir = parent.frame(), encoding = getOption("encoding")) {
  if (!is.null(run_dir))
    stop("tally names run directories itself (runs/<id>): leave run_dir NULL and set options(tfruns.runs_dir = ...)",
         call. = FALSE)
  if (!file.exists(file))
    stop(sprintf("tally: script '%s' not found", file), call. = FALSE)
  if (is.data.frame(flags)) {
    runs <- lapply(seq_len(nrow(flags)), function(i)
      training_run(file, context, config, as.list(flags[i, , drop = FALSE]), properties, NULL, echo, view))
    return(invisible(do.call(rbind, runs)))
  }
  id_file <- tempfile("tally-run-id")
  on.exit(unlink(id_file), add = TRUE)
  # what to run, and how: --check takes the first part alone
  request <- c(property_args(properties), flag_file_args(flags), file, flag_args(flags))
  args <- c("run", "--id-file", id_file, if (!echo) "--quiet", if (identical(view, "save")) "--report", request)
  old <- Sys.getenv("R_CONFIG_ACTIVE", unset = NA)
  if (!identical(config, "default")) {
    Sys.setenv(R_CONFIG_ACTIVE = config)
    on.exit(if (is.na(old)) Sys.unsetenv("R_CONFIG_ACTIVE") else Sys.setenv(R_CONFIG_ACTIVE = old), add = TRUE)
  }
  status <- run_tally(args, stream = TRUE, runs_dir = default_runs_dir())$status
  if (!file.exists(id_file)) {
    # it did not start: tally's message, again, for the R error (--check makes nothing)
    run_tally(c("run", "--check", request), runs_dir = default_runs_dir())
    stop(sprintf("tally: the run of '%s' did not start (exit status %d)", file, status), call. = FALSE)
  }
  id <- readLines(id_file, warn = FALSE)[1]
  # the run from its own directory: the index need not catch up first
  run <- runs_frame(.Call(tally_r_run_row, default_runs_dir(),
                          file.path(.Call(tally_r_runs_dir, default_runs_dir()), id)))
  if (status != 0) {
    stop(sprintf("training run %s %s (exit status %d): %s", id, run$status[1], status, last_error_line(id)),
         call. = FALSE)
  }
  if (isTRUE(view) || (identical(view, "auto") && interactive() && sys.nframe() <= 1))
    view_run(run$run_dir[1])
  invisible(run)
}

# NAME=VALUE for tally run; a list value is a YAML flow sequence.
flag_args <- function(flags) {
  if (is.null(flags) || is.character(flags) && length(flags) == 1 && is.null(names(flags)))
    return(character())
  if (!is.list(flags) && !is.atomic(flags))
    stop("flags must be a named list of values", call. = FALSE)
  if (is.null(names(flags)) || any(!nzchar(names(flags))))
    stop("flags must be specified as a named list", call. = FALSE)
  vapply(names(flags), function(name) paste0(name, "=", flag_text(flags[[name]])), "", USE.NAMES = FALSE)
}

flag_text <- function(value) {
  if (is.logical(value))
    return(tolower(as.character(value)))
  if (is.numeric(value) && length(value) == 1)
    return(format(value, digits = 15, scientific = FALSE, trim = TRUE))
  if (length(value) != 1)
    return(paste0("[", paste(vapply(value, flag_text, ""), collapse = ","), "]"))
  as.character(value)
}

# flags = "flags.yml": tally's --flags-file.
flag_file_args <- function(flags) {
  if (is.character(flags) && length(flags) == 1 && is.null(names(flags)))
    return(c("--flags-file", flags))
  character()
}

property_args <- function(properties) {
  if (is.null(properties))
    return(character())
  if (is.null(names(properties)) || any(!nzchar(names(properties))))
    stop("properties must be a named character vector", call. = FALSE)
  args <- character()
  for (name in names(properties)) {
    if (name == "label")
      args <- c(args, "--label", properties[[name]])
    else
      args <- c(args, "--tag", paste0(name, "=", properties[[name]]))
  }
  args
}

# The script's error message: R's "Error ..." line (not "Execution halted"),
# Python's last traceback line, else the last line it wrote to stderr.
last_error_line <- function(id) {
  lines <- tryCatch(run_tally(c("cat", "--stderr", id), runs_dir = default_runs_dir()), error = function(e) character())
  lines <- trimws(lines[nzchar(trimws(lines))])
  lines <- lines[lines != "Execution halted"]
  errors <- grep("^Error", lines, value = TRUE)
  if (length(errors)) errors[length(errors)] else if (length(lines)) lines[length(lines)] else "the script failed"
}

#' Tune hyperparameters using training flags
#'
#' Runs the script once for every combination of the flag values given (or
#' a random `sample` of them), each an ordinary run, through `tally tune`:
#' the sweep is recorded and can be listed (`tally sweeps`) and resumed.
#'
#' @inheritParams training_run
#' @param flags Named list with flag values (several values per flag), or a
#'   data frame with one combination per row.
#' @param sample Sampling rate for flag combinations (default: run all of
#'   them), in (0, 1].
#' @param runs_dir Directory containing runs.
#' @param confirm Confirm before executing the tuning run.
#' @return Data frame with a row per training run of the sweep.
#' @examples
#' \dontrun{
#' runs <- tuning_run("mnist_mlp.R", flags = list(
#'   batch_size = c(64, 128),
#'   dropout1 = c(0.2, 0.3, 0.4)
#' ))
#' runs[order(runs$eval_acc, decreasing = TRUE), ]
#' }
#' @export
tuning_run <- function(file = "train.R", context = "local",
                       config = Sys.getenv("R_CONFIG_ACTIVE", unset = "default"), flags = NULL,
                       sample = NULL, properties = NULL, runs_dir = default_runs_dir(),
                       echo = TRUE, confirm = interactive(), envir = parent.frame(),
                       encoding = getOption("encoding")) {
  if (is.null(flags) || (!is.list(flags)))
    stop("flags must be specified as a named list", call. = FALSE)
  if (!is.data.frame(flags) && (is.null(names(flags)) || any(!nzchar(names(flags)))))
    stop("flags must be specified as a named list", call. = FALSE)
  if (!is.null(sample) && (!is.numeric(sample) || length(sample) != 1 || sample <= 0 || sample > 1))
    stop("sample must be a floating point value between 0 and 1", call. = FALSE)
  if (!file.exists(file))
    stop(sprintf("tally: script '%s' not found", file), call. = FALSE)
  grid <- if (is.data.frame(flags)) flags else expand.grid(flags, KEEP.OUT.ATTRS = FALSE, stringsAsFactors = FALSE)
  if (!is.null(sample))
    grid <- grid[sort(sample.int(nrow(grid), max(1, round(sample * nrow(grid))))), , drop = FALSE]
  if (confirm && nrow(grid) > 1) {
    prompt <- readline(sprintf("Proceed with tuning run of %d trials? [Y/n]: ", nrow(grid)))
    if (nzchar(prompt) && tolower(substr(prompt, 1, 1)) != "y")
      return(invisible(NULL))
  }
  trials <- tempfile("tally-trials", fileext = ".yml")
  id_file <- tempfile("tally-sweep-id")
  on.exit(unlink(c(trials, id_file)), add = TRUE)
  rows <- lapply(seq_len(nrow(grid)), function(i) lapply(as.list(grid[i, , drop = FALSE]), function(v) v[[1]]))
  yaml::write_yaml(rows, trials)
  args <- c("tune", "--yes", "--id-file", id_file, "--trials", trials, if (echo) "--echo" else "--quiet",
            property_args(properties), file)
  if (!identical(config, "default")) {
    old <- Sys.getenv("R_CONFIG_ACTIVE", unset = NA)
    Sys.setenv(R_CONFIG_ACTIVE = config)
    on.exit(if (is.na(old)) Sys.unsetenv("R_CONFIG_ACTIVE") else Sys.setenv(R_CONFIG_ACTIVE = old), add = TRUE)
  }
  status <- run_tally(args, stream = TRUE, runs_dir = runs_dir)$status
  if (!file.exists(id_file)) {
    # it did not start: tally's message, again, for the R error (--dry-run runs nothing)
    run_tally(c("tune", "--dry-run", args[-(1:4)]), runs_dir = runs_dir)
    stop(sprintf("tally: the tuning run of '%s' did not start (exit status %d)", file, status), call. = FALSE)
  }
  sweep <- readLines(id_file, warn = FALSE)[1]
  runs <- runs_frame(.Call(tally_r_runs_table, runs_dir, sprintf("sweep = '%s'", sweep), "trial", NULL))
  invisible(runs)
}

#' Current run directory
#'
#' The directory of the training run this R process is part of (a script
#' started by `tally run` or [training_run()]); otherwise the working
#' directory.
#' @return The active run directory (or the current working directory).
#' @export
run_dir <- function() {
  dir <- Sys.getenv("TALLY_RUN_DIR", Sys.getenv("RUN_DIR"))
  if (nzchar(dir)) dir else getwd()
}

#' Check for an active training run
#'
#' @return `TRUE` when this R process is a training run's script.
#' @export
is_run_active <- function() {
  nzchar(Sys.getenv("TALLY_RUN_DIR"))
}

#' Create a unique run directory
#'
#' A new, empty directory in `runs_dir` named by the time (UTC) as tfruns
#' names them, for scripts that keep their own outputs; runs that tally
#' tracks get their directories from `tally run`.
#'
#' @inheritParams ls_runs
#' @param seconds_scale Decimal places of the seconds in the name.
#' @return The path of the new directory.
#' @export
unique_run_dir <- function(runs_dir = getOption("tfruns.runs_dir", "runs"), seconds_scale = 0) {
  dir.create(runs_dir, recursive = TRUE, showWarnings = FALSE)
  repeat {
    now <- Sys.time()
    seconds <- if (seconds_scale > 0) formatC(as.numeric(format(now, "%OS6", tz = "UTC")), format = "f",
                                              digits = seconds_scale, width = 3 + seconds_scale, flag = "0")
               else format(now, "%S", tz = "UTC")
    name <- paste0(format(now, "%Y-%m-%dT%H-%M-", tz = "UTC"), seconds, "Z")
    path <- file.path(runs_dir, name)
    if (dir.create(path, showWarnings = FALSE))
      return(path)
    Sys.sleep(if (seconds_scale > 0) 10^-seconds_scale else 0.1)
  }
}
