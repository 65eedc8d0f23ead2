# The cost peer for bench/accuracy, measured in the same run as statecast:
# R's ets() (stlf() when m > 24, as in baselines.R) fitted on each series'
# window at its first origin, best CPU time (user + system) of 3 fits: CPU
# time, like statecast's own timing, so that a loaded machine does not count.
# Usage: Rscript time_ets.R DIR -> stdout TSV: series, ets_s
suppressMessages(library(forecast))
dir <- commandArgs(TRUE)[1]
man <- read.delim(file.path(dir, "manifest.tsv"))
cat("series\tets_s\n")
for (i in seq_len(nrow(man))) {
  r <- man[i, ]; y <- read.csv(file.path(dir, paste0(r$name, ".csv")))$value
  n <- length(y); H <- r$horizon; m <- r$period
  t <- n - max(H, floor(n / 4))
  x <- ts(y[max(1, t - 1999):t], frequency = m)
  best <- Inf
  for (k in 1:3) {
    t1 <- proc.time()
    f <- if (m <= 24) forecast(ets(x), h = H, level = 80) else stlf(x, h = H, level = 80)
    d <- proc.time() - t1
    best <- min(best, d[["user.self"]] + d[["sys.self"]])
  }
  cat(sprintf("%s\t%.6f\n", r$name, best))
}
