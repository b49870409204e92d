#' View a training run
#'
#' Writes the run's HTML report (`tally report`: summary, flags, metrics with
#' charts, console output, source code, files) and shows it in the viewer or
#' the browser.
#'
#' @param run_dir Training run directory (or id), or a data frame from
#'   [ls_runs()] (default: the latest run).
#' @param viewer Function to show the report with (default:
#'   `getOption("tfruns.viewer")`, else [utils::browseURL()]).
#' @seealso [ls_runs()], [run_info()]
#' @export
view_run <- function(run_dir = latest_run(), viewer = getOption("tfruns.viewer")) {
  show_report(save_run_view(run_dir), viewer)
}

#' Save a run view as HTML
#'
#' @inheritParams view_run
#' @param filename Path to save the HTML to; `"auto"`: a temporary file.
#' @return The path of the HTML file, invisibly.
#' @seealso [ls_runs()], [run_info()], [view_run()]
#' @export
save_run_view <- function(run_dir = latest_run(), filename = "auto") {
  dirs <- as_run_dirs(run_dir)
  if (length(dirs) != 1)
    stop("save_run_view() shows one run \u2014 use save_run_comparison() for two", call. = FALSE)
  write_report(dirs, filename)
}

#' Compare training runs
#'
#' Renders the two runs side by side (the most recent on the right): their
#' flags and metrics, what differs marked, their charts overlaid.
#'
#' @param runs Two training run directories, or a data frame from
#'   [ls_runs()] with at least 2 rows (default: the latest two runs).
#' @inheritParams view_run
#' @export
compare_runs <- function(runs = ls_runs(latest_n = 2), viewer = getOption("tfruns.viewer")) {
  show_report(save_run_comparison(runs), viewer)
}

#' Save a run comparison as HTML
#'
#' @inheritParams compare_runs
#' @param filename Path to save the HTML to; `"auto"`: a temporary file.
#' @return The path of the HTML file, invisibly.
#' @export
save_run_comparison <- function(runs = ls_runs(latest_n = 2), filename = "auto") {
  dirs <- as_run_dirs(runs)
  if (length(dirs) < 2)
    stop("comparing runs takes at least 2 of them", call. = FALSE)
  # ls_runs() lists the newest first; the report wants the older on the left
  write_report(if (is.data.frame(runs)) rev(dirs[1:2]) else dirs[1:2], filename)
}

write_report <- function(dirs, filename) {
  if (identical(filename, "auto"))
    filename <- tempfile("tally-report", fileext = ".html")
  run_tally(c("report", "-o", filename, dirs), runs_dir = default_runs_dir())
  invisible(filename)
}

# A viewer given is always used; the browser only in an interactive session.
show_report <- function(path, viewer) {
  if (!is.null(viewer))
    viewer(path)
  else if (interactive())
    utils::browseURL(path)
  invisible(path)
}

#' Copy run directories
#'
#' `copy_run()` copies whole runs; `copy_run_files()` only the files the
#' runs' scripts produced (saved models, checkpoints ...).
#'
#' @param run_dir Training run directories, or a data frame from [ls_runs()].
#' @param to Directory to copy the runs into (default: the working directory).
#' @param rename Name of the copy's directory (one run only; default: the
#'   run's directory name).
#' @return Logical vector: which copies succeeded.
#' @export
copy_run <- function(run_dir, to = ".", rename = NULL) {
  copy_runs(run_dir, to, rename, files_only = FALSE)
}

#' @rdname copy_run
#' @export
copy_run_files <- function(run_dir, to = ".", rename = NULL) {
  copy_runs(run_dir, to, rename, files_only = TRUE)
}

copy_runs <- function(run_dir, to, rename, files_only) {
  dirs <- as_run_dirs(run_dir)
  if (!is.null(rename) && length(dirs) != 1)
    stop("rename takes one run", call. = FALSE)
  vapply(dirs, function(dir) {
    args <- c("copy", dir, "--to", to, if (!is.null(rename)) c("--rename", rename), if (files_only) "--files-only")
    tryCatch({ run_tally(args, runs_dir = default_runs_dir()); TRUE }, error = function(e) {
      warning(conditionMessage(e), call. = FALSE)
      FALSE
    })
  }, TRUE, USE.NAMES = FALSE)
}

#' Clean run directories
#'
#' `clean_runs()` moves runs (by default, all of them) into the runs
#' directory's archive, where `tally runs --archived` lists them and
#' [runs_restore()] brings them back; `purge_runs()` deletes the archived
#' runs for good.
#'
#' @param runs Runs to clean: a data frame from [ls_runs()] or run directories.
#' @inheritParams ls_runs
#' @param confirm `TRUE` to confirm before performing the operation.
#' @return The runs cleaned (or purged), invisibly.
#' @export
clean_runs <- function(runs = ls_runs(runs_dir = runs_dir), runs_dir = default_runs_dir(), confirm = interactive()) {
  dirs <- as_run_dirs(runs)
  if (confirm && !ask(sprintf("Move %d run(s) into the archive?", length(dirs))))
    return(invisible(character()))
  run_tally(c("delete", "--yes", dirs), runs_dir = runs_dir)
  invisible(dirs)
}

#' @rdname clean_runs
#' @export
purge_runs <- function(runs_dir = default_runs_dir(), confirm = interactive()) {
  if (confirm && !ask("Delete every archived run for good?"))
    return(invisible(FALSE))
  run_tally(c("purge", "--yes"), runs_dir = runs_dir, ok = c(0L, 1L))
  invisible(TRUE)
}

ask <- function(question) {
  answer <- readline(paste(question, "[y/N]: "))
  tolower(substr(answer, 1, 1)) == "y"
}

#' Annotate, archive and move runs (guildai's verbs)
#'
#' `runs_tag()` adds and removes tags, `runs_label()` sets (or clears) the
#' label, `runs_mark()` marks runs (`clear = TRUE`: unmarks), `runs_comment()`
#' adds a comment, `runs_delete()` moves runs into the archive,
#' `runs_restore()` brings archived runs back, `runs_purge()` deletes
#' archived runs for good, `runs_export()` writes runs into a directory or
#' a `.tar.gz`/`.zip` file and `runs_import()` brings them in.
#'
#' @param runs Runs: ids, run directories or a data frame from [ls_runs()]
#'   (for `runs_restore()` and `runs_purge()`: ids of archived runs).
#' @param add,remove Tags to add and to remove.
#' @param label The label; `NULL` clears it.
#' @param clear `TRUE` to take the mark away.
#' @param comment The comment's text.
#' @param location A directory or `.tar.gz`/`.zip` file.
#' @inheritParams ls_runs
#' @return The runs (or location), invisibly.
#' @name runs_tag
NULL

#' @rdname runs_tag
#' @export
runs_tag <- function(runs, add = NULL, remove = NULL, runs_dir = default_runs_dir()) {
  if (!length(add) && !length(remove))
    stop("runs_tag() needs tags to add or remove", call. = FALSE)
  run_tally(c("tag", "--yes", as_run_dirs(runs), if (length(add)) paste0("+", add), if (length(remove)) paste0("-", remove)),
            runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_label <- function(runs, label = NULL, runs_dir = default_runs_dir()) {
  args <- if (is.null(label)) c("label", "--yes", "--clear", as_run_dirs(runs)) else
    c("label", "--yes", as_run_dirs(runs), label)
  run_tally(args, runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_mark <- function(runs, clear = FALSE, runs_dir = default_runs_dir()) {
  run_tally(c(if (clear) "unmark" else "mark", "--yes", as_run_dirs(runs)), runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_comment <- function(runs, comment, runs_dir = default_runs_dir()) {
  if (!is.character(comment) || length(comment) != 1 || !nzchar(comment))
    stop("runs_comment() needs the comment's text", call. = FALSE)
  run_tally(c("comment", "--yes", as_run_dirs(runs), comment), runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_delete <- function(runs, runs_dir = default_runs_dir()) {
  run_tally(c("delete", "--yes", as_run_dirs(runs)), runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_restore <- function(runs, runs_dir = default_runs_dir()) {
  run_tally(c("restore", "--yes", as_run_dirs(runs)), runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_purge <- function(runs, runs_dir = default_runs_dir()) {
  run_tally(c("purge", "--yes", as_run_dirs(runs)), runs_dir = runs_dir)
  invisible(runs)
}

#' @rdname runs_tag
#' @export
runs_export <- function(runs, location, runs_dir = default_runs_dir()) {
  run_tally(c("export", as_run_dirs(runs), location), runs_dir = runs_dir)
  invisible(location)
}

#' @rdname runs_tag
#' @export
runs_import <- function(location, runs_dir = default_runs_dir()) {
  run_tally(c("import", location), runs_dir = runs_dir)
  invisible(location)
}

#' Differences between two runs
#'
#' What changed from the first run to the second: attributes, flags, source
#' files (unified diffs) and, with `output = TRUE`, the console output, as
#' `tally diff` shows it.
#'
#' @param runs Two runs (ids, directories or a data frame from [ls_runs()]);
#'   default: the latest two, the older first.
#' @param output Also compare the console output.
#' @inheritParams ls_runs
#' @return The diff as a character vector (class `tally_diff`), printed.
#' @export
view_runs_diff <- function(runs = ls_runs(latest_n = 2), output = FALSE, runs_dir = default_runs_dir()) {
  refs <- as_run_dirs(runs)
  if (length(refs) < 2)
    stop("a diff takes two runs", call. = FALSE)
  if (is.data.frame(runs))
    refs <- rev(refs[1:2]) # ls_runs() lists the newest first
  lines <- run_tally(c("diff", "--color", "never", refs[1:2], if (output) "--output"), runs_dir = runs_dir,
                     ok = c(0L, 1L))
  structure(as.character(lines), class = "tally_diff")
}

#' @export
print.tally_diff <- function(x, ...) {
  cat(x, sep = "\n")
  invisible(x)
}
