two_runs <- function() {
  write_train_script()
  quiet_run("train.R", flags = list(dropout = 0.1))
  quiet_run("train.R", flags = list(dropout = 0.2))
  ls_runs()
}

test_that("view_run(), save_run_view(), compare_runs(), save_run_comparison() write HTML reports", {
  local_project()
  runs <- two_runs()
  path <- save_run_view(runs[1, ], filename = "one.html")
  expect_equal(path, "one.html")
  expect_match(paste(readLines(path), collapse = "\n"), "<html")
  expect_true(file.exists(save_run_view()))
  shown <- NULL
  view_run(runs$run_dir[2], viewer = function(p) shown <<- p)
  expect_match(paste(readLines(shown), collapse = "\n"), runs$id[2])
  expect_true(file.exists(save_run_comparison(runs, filename = "both.html")))
  expect_match(paste(readLines("both.html"), collapse = "\n"), runs$id[1])
  expect_true(file.exists(compare_runs(viewer = function(p) NULL)))
  expect_error(save_run_comparison(runs[1, ]), "at least 2")
  expect_error(save_run_view(runs), "one run")
})

test_that("copy_run() and copy_run_files()", {
  local_project()
  runs <- two_runs()
  expect_equal(copy_run(runs, to = "best"), c(TRUE, TRUE))
  expect_true(dir.exists(file.path("best", runs$id[1], ".tally")))
  expect_true(copy_run_files(runs$run_dir[1], to = "files", rename = "model"))
  expect_true(file.exists("files/model/active.txt"))
  expect_false(dir.exists("files/model/.tally"))
  expect_warning(ok <- copy_run("runs/nosuch", to = "x"), "nosuch")
  expect_false(ok)
  expect_error(copy_run(runs, rename = "one"), "one run")
})

test_that("clean_runs() archives, runs_restore() brings back, purge_runs() deletes", {
  local_project()
  runs <- two_runs()
  clean_runs(runs[1, ], confirm = FALSE)
  expect_equal(ls_runs()$id, runs$id[2])
  runs_restore(runs$id[1])
  expect_equal(nrow(ls_runs()), 2)
  clean_runs(confirm = FALSE)
  expect_equal(nrow(ls_runs()), 0)
  purge_runs(confirm = FALSE)
  expect_length(list.files("runs/.archive", pattern = "^20"), 0)
})

test_that("guildai's verbs: tag, label, mark, comment, delete, purge, export, import, diff", {
  local_project()
  runs <- two_runs()
  runs_tag(runs[1, ], add = c("best", "keep"))
  runs_tag(runs$id[1], remove = "keep")
  expect_equal(ls_runs()$tags[1], "best")
  runs_label(runs[2, ], "baseline")
  expect_equal(ls_runs()$label[2], "baseline")
  runs_label(runs[2, ])
  expect_true(is.na(ls_runs()$label[2]) || ls_runs()$label[2] != "baseline")
  runs_mark(runs[1, ])
  expect_true(isTRUE(run_info(runs$run_dir[1])$recorded$marked))
  runs_mark(runs[1, ], clear = TRUE)
  expect_false(isTRUE(run_info(runs$run_dir[1])$recorded$marked))
  runs_comment(runs[1, ], "looks good")
  expect_equal(run_info(runs$run_dir[1])$recorded$comments[[1]]$text, "looks good")
  expect_error(runs_comment(runs[1, ], ""), "text")
  expect_error(runs_tag(runs[1, ]), "tags to add or remove")
  runs_export(runs, "exported")
  runs_delete(runs$id[2])
  runs_purge(runs$id[2])
  expect_equal(nrow(ls_runs()), 1)
  runs_import("exported")
  expect_equal(nrow(ls_runs()), 2)
  diff <- view_runs_diff(ls_runs())
  expect_s3_class(diff, "tally_diff")
  expect_true(any(grepl("dropout", diff)))
  expect_output(print(diff), "dropout")
  expect_error(runs_delete("nosuch"), "nosuch")
})

test_that("write_run_metadata() records metrics and evaluation inside a run, nothing outside", {
  local_project()
  expect_false(write_run_metadata("metrics", data.frame(loss = 1)))
  writeLines(c(
    "library(tally)",
    "write_run_metadata('metrics', data.frame(loss = c(0.5, NA), val_loss = c(0.6, NA)))",
    "write_run_metadata('metrics', data.frame(loss = c(0.5, 0.25), val_loss = c(0.6, NA)))",
    "write_run_metadata('metrics', data.frame(loss = c(0.5, 0.25, 0.2), val_loss = c(0.6, 0.4, 0.3)))",
    "write_run_metadata('evaluation', list(test_loss = 0.3))",
    "write_run_metadata('properties', list(label = 'meta', source = 'r'))",
    "write_run_metadata('flags', list(x = 1))"
  ), "meta.R")
  run <- quiet_run("meta.R")
  points <- ls_scalars(run)
  expect_equal(points$value[points$tag == "loss"], c(0.5, 0.25, 0.2)) # each epoch once, when complete
  expect_equal(unique(points$run), run$id)
  expect_equal(points$step[points$tag == "loss"], c(1, 2, 3))
  expect_equal(points$value[points$tag == "val_loss"], c(0.6, 0.4, 0.3))
  expect_equal(ls_runs()$eval_loss, 0.3)
  expect_equal(ls_runs()$label, "meta")
  expect_equal(ls_runs()$tags, "source=r")
})

test_that("view_run_metrics() and update_run_metrics() chart a metrics data frame", {
  local_project()
  metrics <- data.frame(loss = c(0.4, 0.2, NA), val_loss = c(0.5, 0.3, NA), acc = c(0.8, 0.9, NA))
  viewer <- view_run_metrics(metrics)
  html <- paste(readLines(viewer$path), collapse = "\n")
  expect_match(html, "polyline")
  expect_match(html, "refresh") # epochs to come: it reloads
  metrics[3, ] <- c(0.1, 0.2, 0.95)
  update_run_metrics(viewer, metrics)
  html <- paste(readLines(viewer$path), collapse = "\n")
  expect_false(grepl("refresh", html))
  expect_match(html, "val_loss")
})
