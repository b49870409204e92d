#' tally: track, compare and tune training runs from R
#'
#' The R interface to tally. It offers tfruns' functions with the same
#' signatures ([training_run()], [tuning_run()], [flags()], [ls_runs()],
#' [view_run()], [compare_runs()] ...) and guildai's additions ([ls_scalars()],
#' [runs_tag()] ...). Runs are read through libtally, straight from tally's
#' index; runs are started by the `tally` command.
#'
#' Options: `tfruns.runs_dir` (or `tally.runs_dir`) sets the runs directory
#' (default: tally's own choice: `$TALLY_RUNS_DIR`, `runs-dir:` in tally.yml,
#' then `runs`); `tally.binary` the `tally` command to run.
#'
#' @keywords internal
#' @useDynLib tally, .registration = TRUE
"_PACKAGE"

# The runs directory an argument or the options name; NULL lets libtally decide.
default_runs_dir <- function() {
  getOption("tfruns.runs_dir", getOption("tally.runs_dir", NULL))
}

# The tally command: the option, $TALLY_BIN, the one the package was built
# with (inst/tally-bin, written by configure), then the PATH.
# Rows of metrics write_run_metadata() has written, per scalar file.
metrics_written <- new.env(parent = emptyenv())

# (The one found last is remembered: Sys.which() starts a shell, milliseconds a call.)
found <- new.env(parent = emptyenv())

tally_binary <- function() {
  for (path in c(getOption("tally.binary", ""), Sys.getenv("TALLY_BIN"), found$binary))
    if (!is.na(path) && nzchar(path) && file.exists(path))
      return(path)
  built <- system.file("tally-bin", package = "tally")
  candidates <- c(if (nzchar(built)) readLines(built, warn = FALSE)[1], Sys.which("tally"))
  for (path in candidates)
    if (!is.na(path) && nzchar(path) && file.exists(path))
      return(found$binary <- unname(path))
  stop("tally: the tally command is not installed \u2014 run scripts/install, or set options(tally.binary = ...)",
       call. = FALSE)
}

# Run `tally ARGS`: stdout and stderr captured (stream = FALSE) or shown as
# they come. An exit status other than 0 (or `ok`) is an R error with tally's message.
run_tally <- function(args, stream = FALSE, ok = 0L, runs_dir = NULL) {
  if (!is.null(runs_dir))
    args <- c("--runs-dir", runs_dir, args)
  if (stream) {
    status <- system2(tally_binary(), shQuote(args), stdout = "", stderr = "")
    return(invisible(list(status = status, output = character())))
  }
  output <- suppressWarnings(system2(tally_binary(), shQuote(args), stdout = TRUE, stderr = TRUE))
  status <- attr(output, "status")
  if (is.null(status))
    status <- 0L
  if (!status %in% ok) {
    message <- grep("^tally: ", output, value = TRUE)
    stop(if (length(message)) message[1] else paste(c("tally failed:", output), collapse = "\n"), call. = FALSE)
  }
  attr(output, "status") <- NULL
  invisible(structure(output, status = status))
}

# Run directories from a character vector, or from a data frame of ls_runs().
as_run_dirs <- function(x) {
  if (is.data.frame(x))
    x <- x$run_dir
  if (is.list(x) && !is.null(x$run_dir))
    x <- x$run_dir
  if (!is.character(x) || !length(x))
    stop("tally: no runs given \u2014 pass run directories or a data frame from ls_runs()", call. = FALSE)
  x
}
