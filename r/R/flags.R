#' Flags for a training run
#'
#' Define the flags (name, type, default value, description) which
#' parameterize a training run, as tfruns' `flags()` does. Defaults are
#' overridden by a flags file (`flags.yml`, top-level keys or configuration
#' sections as the config package reads them) and then by command line
#' arguments (`--name value`, `--name=value`; `--dashed-name` sets
#' `dashed_name`). An argument for a flag that is not defined is an error.
#' `tally run` and [training_run()] pass a script's flags as such arguments.
#'
#' @param ... One or more flag definitions.
#' @param config The configuration section of `file` to use (default: the
#'   `R_CONFIG_ACTIVE` environment variable, else `"default"`).
#' @param file The flags YAML file to read (when it exists).
#' @param arguments The command line arguments (as a character vector) to
#'   parse; those after `--args`, when it is among them.
#' @param name Flag name.
#' @param default Flag default value.
#' @param description Flag description.
#' @return Named list of training flags (class `tfruns_flags`).
#' @examples
#' FLAGS <- flags(
#'   flag_numeric("learning_rate", 0.01, "Initial learning rate."),
#'   flag_integer("max_steps", 5000, "Number of steps to run trainer."),
#'   flag_string("data_dir", "MNIST-data", "Directory for training data"),
#'   flag_boolean("fake_data", FALSE, "If true, use fake data for testing"),
#'   arguments = c("--learning-rate", "0.1", "--fake_data=true")
#' )
#' FLAGS$learning_rate
#' @export
flags <- function(..., config = Sys.getenv("R_CONFIG_ACTIVE", unset = "default"),
                  file = "flags.yml", arguments = commandArgs(TRUE)) {
  definitions <- list(...)
  for (d in definitions)
    if (!inherits(d, "tfruns_flag"))
      stop("flags() takes flag definitions: flag_numeric(), flag_integer(), flag_boolean(), flag_string()",
           call. = FALSE)
  names(definitions) <- vapply(definitions, function(d) d$name, "")
  values <- lapply(definitions, function(d) d$default)
  if (!is.null(file) && file.exists(file))
    values <- apply_flag_values(values, definitions, read_flags_file(file, config), paste0("'", file, "'"))
  values <- apply_flag_values(values, definitions, parse_flag_arguments(arguments), "the command line")
  structure(values, class = "tfruns_flags",
            descriptions = vapply(definitions, function(d) d$description %||% NA_character_, ""))
}

`%||%` <- function(a, b) if (is.null(a)) b else a

new_flag <- function(name, type, default, description) {
  if (!is.character(name) || length(name) != 1 || !nzchar(name))
    stop("a flag's name must be a single non-empty string", call. = FALSE)
  structure(list(name = name, type = type, default = coerce_flag(default, type, name),
                 description = description), class = "tfruns_flag")
}

#' @rdname flags
#' @export
flag_numeric <- function(name, default, description = NULL) new_flag(name, "numeric", default, description)

#' @rdname flags
#' @export
flag_integer <- function(name, default, description = NULL) new_flag(name, "integer", default, description)

#' @rdname flags
#' @export
flag_boolean <- function(name, default, description = NULL) new_flag(name, "boolean", default, description)

#' @rdname flags
#' @export
flag_string <- function(name, default, description = NULL) new_flag(name, "string", default, description)

# A value given as text (command line) or YAML, as the flag's type.
coerce_flag <- function(value, type, name) {
  if (is.null(value))
    return(NULL)
  if (is.character(value) && type != "string")
    value <- yaml::yaml.load(value)
  converted <- suppressWarnings(switch(type,
    numeric = as.numeric(value),
    integer = if (is.numeric(value) && any(value != round(value))) NA_integer_ else as.integer(value),
    boolean = if (is.logical(value)) value else as.logical(toupper(as.character(value))),
    string = as.character(value)))
  if (length(converted) != 1 || is.na(converted))
    stop(sprintf("flag '%s': '%s' is not a valid %s value", name, paste(format(value), collapse = " "), type),
         call. = FALSE)
  converted
}

# "--learning-rate" and "learning_rate" are one flag.
flag_key <- function(name) gsub("-", "_", name, fixed = TRUE)

apply_flag_values <- function(values, definitions, given, where) {
  known <- flag_key(names(definitions))
  for (name in names(given)) {
    i <- match(flag_key(name), known)
    if (is.na(i))
      stop(sprintf("%s sets flag '%s', which is not defined \u2014 defined: %s", where, name,
                   paste(names(definitions), collapse = ", ")), call. = FALSE)
    d <- definitions[[i]]
    values[[d$name]] <- coerce_flag(given[[name]], d$type, d$name)
  }
  values
}

# `--name value`, `--name=value` and a bare boolean `--name` (true).
parse_flag_arguments <- function(arguments) {
  arguments <- as.character(arguments)
  at <- match("--args", arguments)
  if (!is.na(at))
    arguments <- arguments[-seq_len(at)]
  values <- list()
  i <- 1
  while (i <= length(arguments)) {
    arg <- arguments[[i]]
    if (!startsWith(arg, "--") || nchar(arg) < 3)
      stop(sprintf("unexpected command line argument '%s' \u2014 flags are given as --name value or --name=value", arg),
           call. = FALSE)
    body <- substring(arg, 3)
    eq <- regexpr("=", body, fixed = TRUE)
    if (eq > 0) {
      values[[substring(body, 1, eq - 1)]] <- substring(body, eq + 1)
      i <- i + 1
    } else if (i < length(arguments) && !startsWith(arguments[[i + 1]], "--")) {
      values[[body]] <- arguments[[i + 1]]
      i <- i + 2
    } else {
      values[[body]] <- "true"
      i <- i + 1
    }
  }
  values
}

# flags.yml: top-level values, or config sections where `default` is the base
# that the active section overrides (the config package's rule).
read_flags_file <- function(file, config) {
  doc <- yaml::read_yaml(file)
  if (is.null(doc))
    return(list())
  if (!is.list(doc) || is.null(names(doc)))
    stop(sprintf("'%s' is not a map of flag values", file), call. = FALSE)
  sections <- vapply(doc, function(v) is.list(v) && !is.null(names(v)), TRUE)
  if (!any(sections))
    return(doc)
  if (!all(sections))
    stop(sprintf("'%s' mixes flag values and configuration sections", file), call. = FALSE)
  values <- doc[["default"]] %||% list()
  if (!identical(config, "default")) {
    if (is.null(doc[[config]]))
      stop(sprintf("'%s' has no configuration '%s'", file, config), call. = FALSE)
    values[names(doc[[config]])] <- doc[[config]]
  }
  values[setdiff(names(values), "inherits")]
}

#' @export
print.tfruns_flags <- function(x, ...) {
  utils::str(unclass(x)[names(x)], give.attr = FALSE, no.list = TRUE)
  invisible(x)
}
