# Export the hold-out series: R datasets that are NOT in the public set, in
# the same layout (EVAL.md). statecast's front end was developed on the
# public set only; this set checks that what was learned there carries over.
# Usage: Rscript export_holdout.R DIR -> DIR/<name>.csv and DIR/manifest.tsv
out <- commandArgs(TRUE)[1]; if (is.na(out)) out <- "holdout"
spec <- list(
  list("ldeaths", ldeaths, 12, 12, 2629746), list("mdeaths", mdeaths, 12, 12, 2629746),
  list("Seatbelts_front", Seatbelts[, "front"], 12, 18, 2629746),
  list("Seatbelts_rear", Seatbelts[, "rear"], 12, 18, 2629746),
  list("freeny_y", freeny.y, 4, 8, 7889238),
  list("sunspot_year", sunspot.year, 1, 10, 86400), list("FTSE", EuStockMarkets[, "FTSE"], 1, 10, 86400),
  list("BJsales_lead", BJsales.lead, 1, 10, 86400), list("lh", lh, 1, 6, 600),
  list("discoveries", discoveries, 1, 10, 86400), list("beaver2_temp", beaver2$temp, 1, 12, 600),
  list("airmiles", airmiles, 1, 6, 86400))
man <- data.frame()
for (s in spec) {
  name <- s[[1]]; x <- as.numeric(s[[2]]); m <- s[[3]]; H <- s[[4]]; st <- s[[5]]
  stopifnot(!any(is.na(x)))
  t <- 1262304000 + (seq_along(x) - 1) * st
  write.csv(data.frame(t = sprintf("%.0f", t), value = x), file.path(out, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
  man <- rbind(man, data.frame(name = name, period = m, horizon = H, step_s = st, n = length(x), source = "R"))
}
write.table(man, file.path(out, "manifest.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
