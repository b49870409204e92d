test_that("training_run() runs the script as a tracked run and returns it invisibly", {
  local_project()
  write_train_script()
  expect_invisible(run <- quiet_run("train.R", flags = list(dropout = 0.2, optimizer = "sgd")))
  expect_s3_class(run, "tfruns_runs_df")
  expect_equal(nrow(run), 1)
  expect_equal(run$flag_dropout, 0.2)
  expect_equal(run$flag_optimizer, "sgd")
  expect_equal(run$eval_acc, 0.91)
  expect_equal(run$metric_loss, 0.0667)
  expect_equal(run$epochs_completed, 3L)
  expect_true(run$completed)
  expect_match(run$run_dir, "^runs/")
  expect_equal(readLines(file.path(run$run_dir, "active.txt")), "active: TRUE")
})

test_that("training_run() takes a flags file, properties, and a data frame of runs", {
  local_project()
  write_train_script()
  writeLines("dropout: 0.3", "values.yml")
  run <- quiet_run("train.R", flags = "values.yml", properties = c(label = "from file", team = "a"))
  expect_equal(run$flag_dropout, 0.3)
  expect_equal(run$label, "from file")
  expect_equal(run$tags, "team=a")
  runs <- quiet_run("train.R", flags = data.frame(dropout = c(0.1, 0.5)))
  expect_equal(runs$flag_dropout, c(0.1, 0.5))
})

test_that("training_run() errors: a failing script, a missing one, an unknown flag, run_dir", {
  local_project()
  write_train_script()
  writeLines("stop('diverged: loss is NaN')", "bad.R")
  expect_error(quiet_run("bad.R"), "error \\(exit status 1\\): Error: diverged: loss is NaN")
  expect_equal(ls_runs()$status, "error")
  expect_error(quiet_run("missing.R"), "script 'missing.R' not found")
  expect_error(quiet_run("train.R", flags = list(nosuch = 1)), "train.R has no flag 'nosuch'")
  expect_error(quiet_run("train.R", flags = list(1)), "named list")
  expect_error(quiet_run("train.R", run_dir = "elsewhere"), "names run directories itself")
  expect_error(training_run("train.R", flags = list(nosuch = 1), echo = FALSE, view = "save"),
               "train.R has no flag 'nosuch'")
  expect_equal(nrow(ls_runs()), 1) # only the failing one was recorded
})

test_that("ls_runs(): tfruns' columns, subset, order, decreasing, latest_n", {
  local_project()
  write_train_script()
  for (d in c(0.1, 0.3, 0.2)) quiet_run("train.R", flags = list(dropout = d))
  runs <- ls_runs()
  expect_equal(nrow(runs), 3)
  expect_true(all(c("run_dir", "eval_acc", "metric_loss", "metric_val_acc", "flag_dropout", "flag_epochs",
                    "epochs_completed", "script", "start", "end", "completed") %in% names(runs)))
  expect_s3_class(runs$start, "POSIXct")
  expect_equal(runs$flag_dropout, c(0.2, 0.3, 0.1)) # newest first
  expect_equal(ls_runs(order = flag_dropout)$flag_dropout, c(0.3, 0.2, 0.1))
  expect_equal(ls_runs(order = "flag_dropout", decreasing = FALSE)$flag_dropout, c(0.1, 0.2, 0.3))
  expect_equal(ls_runs(metric_loss < 0.08)$flag_dropout, c(0.2, 0.1))
  threshold <- 0.15
  expect_equal(ls_runs(flag_dropout > threshold, order = flag_dropout, decreasing = FALSE)$flag_dropout, c(0.2, 0.3))
  expect_equal(ls_runs(latest_n = 2)$flag_dropout, c(0.2, 0.3))
  expect_output(print(ls_runs()), "Data frame: 3 x")
  expect_error(ls_runs(order = nosuch), "no such column")
  expect_error(ls_runs(latest_n = 0), "latest_n")
  expect_error(ls_runs(flag_dropout + 1), "logical")
})

test_that("latest_run(), latest_runs(), run_info(), ls_scalars()", {
  local_project()
  expect_null(latest_run())
  expect_output(print(ls_runs()), "No training runs")
  write_train_script()
  quiet_run("train.R", flags = list(dropout = 0.2))
  last <- latest_run()
  expect_s3_class(last, "tfruns_run")
  expect_equal(last$flag_dropout, 0.2)
  expect_output(print(last), "dropout: 0.2")
  expect_equal(nrow(latest_runs(5)), 1)
  info <- run_info(last$run_dir)
  expect_equal(info$flags$dropout, 0.2)
  expect_equal(info$metrics$loss, c(0.2, 0.1, 0.0667))
  expect_equal(info$recorded$status, "completed")
  expect_s3_class(run_info(ls_runs()), "tfruns_run")
  points <- ls_scalars()
  expect_equal(points$value[points$tag == "val_acc"], c(0.8, 0.9, 0.9333))
  expect_equal(unique(ls_scalars(tags = "loss")$tag), "loss")
  expect_error(run_info("nosuch"), "nosuch")
})

test_that("tuning_run(): every combination, a sample, and tfruns' errors", {
  local_project()
  write_train_script()
  runs <- tuning_run("train.R", flags = list(dropout = c(0.1, 0.3), epochs = c(1L, 2L)), confirm = FALSE,
                     echo = FALSE)
  expect_equal(nrow(runs), 4)
  # expand.grid's order, as tfruns: the first flag varies fastest
  expect_equal(runs$flag_dropout, c(0.1, 0.3, 0.1, 0.3))
  expect_equal(runs$flag_epochs, c(1L, 1L, 2L, 2L))
  set.seed(1)
  sampled <- tuning_run("train.R", flags = list(dropout = c(0.1, 0.2, 0.3, 0.4)), sample = 0.5, confirm = FALSE,
                        echo = FALSE)
  expect_equal(nrow(sampled), 2)
  expect_error(tuning_run("train.R", flags = list(0.1, 0.2), confirm = FALSE), "named list")
  expect_error(tuning_run("train.R", flags = NULL, confirm = FALSE), "named list")
  expect_error(tuning_run("train.R", flags = list(dropout = 0.1), sample = 1.5, confirm = FALSE),
               "sample must be a floating point value between 0 and 1")
  expect_error(tuning_run("train.R", flags = list(nosuch = 1:2), confirm = FALSE, echo = FALSE), "no flag 'nosuch'")
  expect_error(tuning_run("missing.R", flags = list(dropout = 0.1), confirm = FALSE), "not found")
})

test_that("run_dir(), is_run_active() and unique_run_dir() outside a run", {
  dir <- local_project()
  expect_false(is_run_active())
  expect_equal(normalizePath(run_dir()), normalizePath(dir))
  a <- unique_run_dir(seconds_scale = 3)
  b <- unique_run_dir(seconds_scale = 3)
  expect_true(dir.exists(a) && dir.exists(b) && a != b)
  expect_match(basename(a), "^\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z$")
})

test_that("a corrupt run directory does not stop ls_runs()", {
  local_project()
  write_train_script()
  run <- quiet_run("train.R")
  dir.create("runs/2026-01-01T00-00-00Z-broken1/.tally", recursive = TRUE)
  writeLines("{ not json", "runs/2026-01-01T00-00-00Z-broken1/.tally/run.json")
  expect_equal(ls_runs()$id, run$id)
})

test_that("Ctrl-C (SIGINT to the foreground process group) stops the run: terminated, an R error", {
  skip_if(!nzchar(Sys.which("setsid")) || !nzchar(Sys.which("kill")), "no setsid or kill")
  local_project()
  writeLines(c("writeLines('go', 'started')", "for (i in 1:600) { cat(sprintf('loss: %d\\n', i)); Sys.sleep(0.1) }"),
             "slow.R")
  writeLines(c("library(tally)",
               "tryCatch(training_run('slow.R', echo = FALSE, view = FALSE),",
               "         error = function(e) writeLines(conditionMessage(e), 'error.txt'))"), "ctrl.R")
  # like a terminal: R and what it runs in a process group of their own
  system("setsid Rscript ctrl.R >ctrl.log 2>&1 & echo $! >pid")
  withr::defer(system2(Sys.which("kill"), c("-s", "KILL", "--", paste0("-", readLines("pid"))), stderr = FALSE))
  deadline <- Sys.time() + 60
  while (!length(Sys.glob("runs/*/started")) && Sys.time() < deadline) Sys.sleep(0.05)
  expect_length(Sys.glob("runs/*/started"), 1)
  # the whole group, as Ctrl-C does (procps' kill: the shell's may not take a group)
  system2(Sys.which("kill"), c("-s", "INT", "--", paste0("-", readLines("pid"))))
  while (!file.exists("error.txt") && Sys.time() < deadline) Sys.sleep(0.05)
  expect_match(readLines("error.txt"), "terminated")
  expect_equal(ls_runs()$status, "terminated")
})
