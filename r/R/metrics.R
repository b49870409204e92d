#' Record metadata from inside a training run
#'
#' For scripts written for tfruns: `"metrics"` (a data frame with a row per
#' epoch and a column per metric) and `"evaluation"` (a named list, recorded
#' as `eval_NAME`) become scalars of the run; `"properties"` (a named list)
#' become the run's tags (`name=value`), `label` its label. Outside a run
#' (see [is_run_active()]) nothing is recorded.
#'
#' `"metrics"` may be called again with the frame grown (as the Keras
#' package does every epoch): only rows complete now and not written before
#' are recorded.
#'
#' @param type `"metrics"`, `"evaluation"`, `"properties"` (others, such as
#'   `"flags"`, which tally records itself, are accepted and ignored).
#' @param data The metadata.
#' @param run_dir The run's directory (default: the active run's).
#' @return `TRUE` when something was recorded, invisibly.
#' @export
write_run_metadata <- function(type, data, run_dir = tally::run_dir()) {
  # run_dir is tfruns' signature; what is recorded goes to the active run
  scalars <- Sys.getenv("TALLY_SCALARS")
  if (!is_run_active() || !nzchar(scalars))
    return(invisible(FALSE))
  if (type == "metrics") {
    # Keras calls this every epoch with the whole frame, epochs to come as NA:
    # the complete rows not written before are appended, each once.
    data <- as.data.frame(data)
    complete <- which(stats::complete.cases(data))
    done <- metrics_written[[scalars]] %||% 0L
    rows <- complete[complete > done]
    lines <- vapply(rows, function(i) {
      jsonlite::toJSON(c(as.list(data[i, , drop = FALSE]), list(step = i)), auto_unbox = TRUE, digits = NA)
    }, "")
    cat(lines, file = scalars, sep = "\n", append = TRUE)
    if (length(rows))
      metrics_written[[scalars]] <- max(rows)
  } else if (type == "evaluation") {
    values <- as.list(data)
    names(values) <- paste0("eval_", sub("^(eval|test)_", "", names(values)))
    cat(jsonlite::toJSON(values, auto_unbox = TRUE, digits = NA), file = scalars, sep = "\n", append = TRUE)
  } else if (type == "properties") {
    properties <- unlist(data)
    label <- properties[names(properties) == "label"]
    rest <- properties[names(properties) != "label"]
    id <- Sys.getenv("TALLY_RUN_ID")
    runs <- dirname(Sys.getenv("TALLY_RUN_DIR")) # the script runs inside its run directory
    if (length(label))
      runs_label(id, label[[1]], runs_dir = runs)
    if (length(rest))
      runs_tag(id, add = paste0(names(rest), "=", rest), runs_dir = runs)
  } else {
    return(invisible(FALSE))
  }
  invisible(TRUE)
}

#' View metrics for a training run
#'
#' Charts a data frame of metrics (a row per epoch, a column per metric;
#' epochs still to come as `NA`) in an HTML page that reloads itself, so
#' `update_run_metrics()` shows new epochs as they arrive. A metric and its
#' `val_` counterpart share a chart; `acc` and `accuracy` go up to 1.
#'
#' @param metrics Data frame of metrics.
#' @param viewer The viewer `view_run_metrics()` returned.
#' @return A viewer (the page's path, class `tally_metrics_viewer`), invisibly.
#' @export
view_run_metrics <- function(metrics) {
  path <- tempfile("tally-metrics", fileext = ".html")
  viewer <- structure(list(path = path), class = "tally_metrics_viewer")
  update_run_metrics(viewer, metrics)
  if (interactive())
    utils::browseURL(path)
  invisible(viewer)
}

#' @rdname view_run_metrics
#' @export
update_run_metrics <- function(viewer, metrics) {
  metrics <- as.data.frame(metrics)
  names <- names(metrics)
  base <- unique(sub("^val_", "", names))
  charts <- vapply(base, function(name) {
    series <- intersect(c(name, paste0("val_", name)), names)
    metrics_svg(metrics[series], name)
  }, "")
  done <- all(stats::complete.cases(metrics))
  html <- c("<!DOCTYPE html><html><head><meta charset='utf-8'>",
            if (!done) "<meta http-equiv='refresh' content='2'>",
            "<title>metrics</title><style>body{font-family:sans-serif} svg{margin:8px}</style></head><body>",
            charts, "</body></html>")
  writeLines(html, viewer$path)
  invisible(viewer)
}

metrics_svg <- function(series, title) {
  w <- 420; h <- 240; pad <- 36
  values <- unlist(series)
  values <- values[is.finite(values)]
  lo <- if (length(values)) min(values) else 0
  hi <- if (title %in% c("acc", "accuracy")) 1 else if (length(values)) max(values) else 1
  if (hi == lo) hi <- lo + 1
  n <- max(nrow(series), 2)
  x <- function(i) pad + (i - 1) / (n - 1) * (w - 2 * pad)
  y <- function(v) h - pad - (v - lo) / (hi - lo) * (h - 2 * pad)
  colours <- c("#1f77b4", "#ff7f0e")
  lines <- vapply(seq_along(series), function(k) {
    v <- series[[k]]
    ok <- which(is.finite(v))
    points <- paste(sprintf("%.1f,%.1f", x(ok), y(v[ok])), collapse = " ")
    sprintf("<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/><text x='%d' y='%d' fill='%s'>%s</text>",
            colours[k], points, w - pad - 90, 16 + 14 * k, colours[k], names(series)[k])
  }, "")
  paste0(sprintf("<svg width='%d' height='%d' role='img'><text x='%d' y='16'>%s</text>", w, h, pad, title),
         sprintf("<text x='2' y='%d'>%.3g</text><text x='2' y='%d'>%.3g</text>", pad, hi, h - pad, lo),
         paste(lines, collapse = ""), "</svg>")
}
