# Each test works in a fresh project directory of its own, with its own runs.
local_project <- function(env = parent.frame()) {
  dir <- withr::local_tempdir(.local_envir = env)
  withr::local_dir(dir, .local_envir = env)
  withr::local_options(list(tfruns.runs_dir = NULL, tally.runs_dir = NULL), .local_envir = env)
  withr::local_envvar(c(TALLY_RUNS_DIR = NA, R_CONFIG_ACTIVE = NA, TALLY_RUN_DIR = NA), .local_envir = env)
  dir
}

# A tfruns-style training script: flags() from this package, metrics printed.
write_train_script <- function(path = "train.R") {
  writeLines(c(
    "library(tally)",
    "FLAGS <- flags(flag_numeric('dropout', 0.4, 'dropout rate'), flag_integer('epochs', 3),",
    "               flag_string('optimizer', 'adam'))",
    "for (e in seq_len(FLAGS$epochs)) {",
    "  cat(sprintf('epoch %d\\n', e))",
    "  cat(sprintf('loss: %.4f\\n', FLAGS$dropout / e))",
    "  cat(sprintf('val_acc: %.4f\\n', 1 - FLAGS$dropout / e))",
    "}",
    "cat('test_acc: 0.91\\n')",
    "cat(sprintf('active: %s\\n', is_run_active()), file = 'active.txt')"
  ), path)
  path
}

# Run quietly: the script's output goes to the process's stdout, not R's.
quiet_run <- function(...) training_run(..., echo = FALSE, view = FALSE)
