#' List training runs
#'
#' A data frame of runs with tfruns' columns: `run_dir`, `eval_*` (scalars a
#' script reported as `eval_NAME` or `test_NAME`), `metric_*` (the last value
#' of every other scalar), `flag_*`, `epochs_completed`, `script`, `start`,
#' `end`, `completed`, then tally's `id`, `status`, `label`, `tags` and
#' `exit_status`. The columns are built in C straight from tally's index.
#'
#' @param subset Logical expression over the columns indicating rows to keep
#'   (missing values are taken as false), as in [subset()]:
#'   `ls_runs(eval_acc > 0.98)`.
#' @param order Columns to order by, unquoted or as strings (default: the
#'   start time).
#' @param decreasing `TRUE` to use decreasing order (e.g. the most recent
#'   runs first).
#' @param latest_n Limit the query to the `latest_n` most recent runs.
#' @param runs_dir Directory containing runs. Defaults to the
#'   `tfruns.runs_dir` option, else tally's own choice (`$TALLY_RUNS_DIR`,
#'   `runs-dir:` in tally.yml, `runs`).
#' @return Data frame with training runs (class `tfruns_runs_df`).
#' @examples
#' \dontrun{
#' ls_runs(eval_acc > 0.98, order = eval_acc)
#' }
#' @export
ls_runs <- function(subset = NULL, order = "start", decreasing = TRUE, latest_n = NULL,
                    runs_dir = default_runs_dir()) {
  if (!is.null(latest_n) && (!is.numeric(latest_n) || length(latest_n) != 1 || latest_n < 1))
    stop("latest_n must be a positive number", call. = FALSE)
  runs <- runs_frame(.Call(tally_r_runs_table, runs_dir, NULL, NULL, latest_n))
  condition <- substitute(subset)
  if (!is.null(condition)) {
    keep <- eval(condition, runs, parent.frame())
    if (!is.logical(keep))
      stop("subset must be a logical expression", call. = FALSE)
    runs <- runs[!is.na(keep) & keep, , drop = FALSE]
  }
  keys <- order_columns(substitute(order), parent.frame())
  missing <- setdiff(keys, names(runs))
  if (length(missing))
    stop(sprintf("cannot order by '%s': no such column", missing[1]), call. = FALSE)
  if (length(keys) && nrow(runs) > 1) {
    runs <- runs[do.call(base::order, c(unname(as.list(runs[keys])), decreasing = decreasing, na.last = TRUE)), ,
                 drop = FALSE]
  }
  rownames(runs) <- NULL
  runs
}

# `order = eval_acc`, `order = "eval_acc"`, `order = c("a", "b")`, or a variable holding names.
order_columns <- function(expr, env) {
  if (is.null(expr))
    return(character())
  if (is.symbol(expr)) {
    name <- as.character(expr)
    if (exists(name, envir = env) && is.character(value <- get(name, envir = env)))
      return(value)
    return(name)
  }
  value <- eval(expr, env)
  if (!is.character(value))
    stop("order must name columns", call. = FALSE)
  value
}

# tfruns' columns from the table libtally builds (see tally_table_new()).
runs_frame <- function(columns) {
  n <- length(columns$id)
  scalar_names <- grep("^scalar_", names(columns), value = TRUE)
  tags <- substring(scalar_names, 8)
  is_eval <- grepl("^(eval|test)_", tags)
  is_sys <- startsWith(tags, "sys/")
  out <- list(run_dir = relative_run_dirs(columns$dir))
  for (i in which(is_eval))
    out[[paste0("eval_", sub("^(eval|test)_", "", tags[i]))]] <- columns[[scalar_names[i]]]
  for (i in which(!is_eval & !is_sys))
    out[[paste0("metric_", tags[i])]] <- columns[[scalar_names[i]]]
  for (name in grep("^flag_", names(columns), value = TRUE))
    out[[name]] <- columns[[name]]
  out$epochs_completed <- columns$epochs_completed
  out$script <- columns$script
  out$start <- columns$started
  out$end <- columns$stopped
  out$completed <- columns$status == "completed"
  out$id <- columns$id
  out$status <- columns$status
  out$label <- columns$label
  out$tags <- columns$tags
  out$exit_status <- columns$exit_status
  # every column has n values already: a data frame without as.data.frame()'s checks
  out <- lapply(out, function(column) if (length(column) == n) column else rep(column, length.out = n))
  structure(out, class = c("tfruns_runs_df", "data.frame"), row.names = .set_row_names(n))
}

# "runs/2026-…" for runs under the working directory, as tfruns shows them.
relative_run_dirs <- function(dirs) {
  here <- paste0(normalizePath(getwd(), mustWork = FALSE), "/")
  inside <- !is.na(dirs) & startsWith(dirs, here)
  dirs[inside] <- substring(dirs[inside], nchar(here) + 1)
  dirs
}

#' @export
print.tfruns_runs_df <- function(x, ...) {
  if (!nrow(x)) {
    cat("No training runs found.\n")
    return(invisible(x))
  }
  cat(sprintf("Data frame: %d x %d\n", nrow(x), ncol(x)))
  shown <- as.data.frame(x)
  print(utils::head(shown, 20), ...)
  if (nrow(x) > 20)
    cat(sprintf("# ... with %d more rows\n", nrow(x) - 20))
  invisible(x)
}

#' @export
`[.tfruns_runs_df` <- function(x, ...) {
  out <- NextMethod()
  if (is.data.frame(out))
    class(out) <- c("tfruns_runs_df", "data.frame")
  out
}

#' Latest training run
#'
#' @inheritParams ls_runs
#' @param n Number of runs.
#' @return `latest_run()`: a named list with the run's attributes (class
#'   `tfruns_run`), or `NULL` when there is none; `latest_runs()`: a data
#'   frame of the latest `n` runs.
#' @export
latest_run <- function(runs_dir = default_runs_dir()) {
  runs <- ls_runs(latest_n = 1, runs_dir = runs_dir)
  if (!nrow(runs))
    return(NULL)
  run_record(runs[1, , drop = FALSE])
}

#' @rdname latest_run
#' @export
latest_runs <- function(n, runs_dir = default_runs_dir()) {
  ls_runs(latest_n = n, runs_dir = runs_dir)
}

run_record <- function(row) {
  structure(lapply(as.list(as.data.frame(row, stringsAsFactors = FALSE)), function(v) v[[1]]),
            class = "tfruns_run")
}

#' Summary of a training run
#'
#' @param run_dir Training run directory (or id, or index: `1` is the
#'   latest), or a data frame returned from [ls_runs()].
#' @return A training run summary (class `tfruns_run`): the columns of
#'   [ls_runs()] for the run, plus `flags`, `metrics` (a data frame with one
#'   row per step and a column per scalar) and `recorded` (everything tally
#'   recorded: the run's `run.json`). More than one run
#'   gives a list of them.
#' @seealso [view_run()]
#' @export
run_info <- function(run_dir) {
  dirs <- as_run_dirs(run_dir)
  if (length(dirs) > 1)
    return(lapply(dirs, run_info))
  found <- .Call(tally_r_run_json, default_runs_dir(), dirs)
  recorded <- jsonlite::fromJSON(found[1], simplifyVector = FALSE)
  dir <- found[2]
  row <- runs_frame(.Call(tally_r_runs_table, dirname(dir), sprintf("id = '%s'", recorded$id), NULL, 1L))
  info <- if (nrow(row)) unclass(run_record(row)) else list(run_dir = relative_run_dirs(dir))
  info$flags <- recorded$flags
  info$metrics <- metrics_frame(dir)
  info$recorded <- recorded
  structure(info, class = "tfruns_run")
}

# The run's scalars as tfruns' metrics: a row per step, a column per scalar.
metrics_frame <- function(run_dir) {
  points <- ls_scalars(run_dir)
  points <- points[!startsWith(points$tag, "sys/"), , drop = FALSE]
  if (!nrow(points))
    return(data.frame())
  wide <- stats::reshape(points[c("step", "tag", "value")], idvar = "step", timevar = "tag", direction = "wide")
  names(wide) <- sub("^value\\.", "", names(wide))
  wide <- wide[base::order(wide$step), , drop = FALSE]
  rownames(wide) <- NULL
  wide
}

#' @export
print.tfruns_run <- function(x, ...) {
  cat(sprintf("Run: %s\n", x$run_dir))
  if (!is.null(x$status))
    cat(sprintf("Status: %s", x$status), if (!is.null(x$start)) format(x$start), "\n")
  values <- x[grepl("^(flag|metric|eval)_", names(x))]
  for (group in c("flag_", "eval_", "metric_")) {
    keys <- names(values)[startsWith(names(values), group)]
    if (length(keys)) {
      cat(switch(group, flag_ = "Flags:", eval_ = "Evaluation:", metric_ = "Metrics:"), "\n")
      for (k in keys)
        cat(sprintf("  %s: %s\n", substring(k, nchar(group) + 1), format(values[[k]])))
    }
  }
  invisible(x)
}

#' Scalars of training runs
#'
#' Every scalar point of the runs, in long format, as guildai's
#' `ls_scalars()` returns them.
#'
#' @param runs Run directories (or ids), or a data frame from [ls_runs()]
#'   (default: the latest run).
#' @param tags Only these scalar tags (default: all).
#' @return Data frame with columns `run` (the run's id), `tag`, `step`,
#'   `value` and `time` (POSIXct).
#' @export
ls_scalars <- function(runs = ls_runs(latest_n = 1), tags = NULL) {
  dirs <- as_run_dirs(runs)
  parts <- lapply(dirs, function(dir) {
    p <- .Call(tally_r_scalars, default_runs_dir(), dir, if (is.null(tags)) NULL else as.character(tags))
    data.frame(run = rep(p$run, length(p$tag)), tag = p$tag, step = p$step, value = p$value,
               time = as.POSIXct(p$time, origin = "1970-01-01"), stringsAsFactors = FALSE)
  })
  do.call(rbind, parts)
}
