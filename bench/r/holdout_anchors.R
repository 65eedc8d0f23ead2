# Anchors for the hold-out set: baselines.R's loop and output format, with
# its methods minus auto.arima (and so minus comb). The hold-out needs ets
# for relMASE and snaive for "better than snaive"; auto.arima's search is
# what takes most of baselines.R's 15 minutes. baselines.R stays untouched:
# it is the reference that defines the public anchors.
# Usage: Rscript holdout_anchors.R DIR  -> DIR/baselines.tsv
suppressMessages(library(forecast))
dir <- commandArgs(TRUE)[1]
man <- read.delim(file.path(dir, "manifest.tsv"))
K <- 30; alpha <- 0.2
methods <- list(
  naive = function(x, H, m) naive(x, h = H, level = 80),
  snaive = function(x, H, m) snaive(x, h = H, level = 80),
  ets = function(x, H, m) if (m <= 24) forecast(ets(x), h = H, level = 80) else stlf(x, h = H, level = 80),
  theta = function(x, H, m) thetaf(x, h = H, level = 80))
res <- data.frame()
for (i in seq_len(nrow(man))) {
  r <- man[i, ]; y <- read.csv(file.path(dir, paste0(r$name, ".csv")))$value
  n <- length(y); m <- r$period; H <- r$horizon
  E <- max(H, floor(n / 4)); O <- seq(n - E, n - H, by = max(1, ceiling((E - H + 1) / K)))
  up <- n - E; sc <- mean(abs(diff(y[1:up], lag = if (up > 2 * m) m else 1)))
  for (k in names(methods)) {
    ae <- c(); is <- c(); cv <- c(); sec <- 0
    for (t in O) {
      x <- ts(y[max(1, t - 1999):t], frequency = m); truth <- y[(t + 1):(t + H)]
      t1 <- proc.time()[["elapsed"]]
      f <- tryCatch(methods[[k]](x, H, m), error = function(e) NULL)
      if (is.null(f)) f <- naive(x, h = H, level = 80)
      sec <- sec + proc.time()[["elapsed"]] - t1
      mu <- as.numeric(f$mean); lo <- as.numeric(f$lower[, 1]); hi <- as.numeric(f$upper[, 1])
      ae <- c(ae, abs(truth - mu)); cv <- c(cv, mean(truth >= lo & truth <= hi))
      is <- c(is, (hi - lo) + (2 / alpha) * (lo - truth) * (truth < lo) + (2 / alpha) * (truth - hi) * (truth > hi))
    }
    res <- rbind(res, data.frame(series = r$name, method = k, origins = length(O),
        mase = mean(ae) / sc, msis = mean(is) / sc, coverage = mean(cv), fit_s = sec))
  }
  cat(r$name, n, length(O), "done\n")
}
write.table(res, file.path(dir, "baselines.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
