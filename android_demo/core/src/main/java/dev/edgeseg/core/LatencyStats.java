package dev.edgeseg.core;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Latency statistics with the definitions of {@code benchmarks.base.LatencyStats.from_samples},
 * so the phone's numbers and the host's mean the same thing (p90 = the sample at
 * {@code round-half-even(0.9 * (n - 1))} of the sorted list; std = population std).
 */
public final class LatencyStats {
  public final int runs;
  public final double mean;
  public final double median;
  public final double p90;
  public final double min;
  public final double max;
  public final double std;

  public LatencyStats(double[] samplesMs) {
    if (samplesMs.length == 0) {
      throw new ContractException("no timed runs");
    }
    double[] s = samplesMs.clone();
    Arrays.sort(s);
    int n = s.length;
    double sum = 0;
    for (double v : s) {
      sum += v;
    }
    runs = n;
    mean = sum / n;
    median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    p90 = s[Math.min(n - 1, (int) Math.rint(0.9 * (n - 1)))];
    min = s[0];
    max = s[n - 1];
    double ss = 0;
    for (double v : s) {
      ss += (v - mean) * (v - mean);
    }
    std = n > 1 ? Math.sqrt(ss / n) : 0.0;
  }

  /** The field names of benchmarks.base.LatencyStats, for the bench JSON. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runs", (long) runs);
    m.put("mean_ms", mean);
    m.put("median_ms", median);
    m.put("p90_ms", p90);
    m.put("min_ms", min);
    m.put("max_ms", max);
    m.put("std_ms", std);
    return m;
  }
}
