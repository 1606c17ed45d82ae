package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several issue-client runs at once in one JVM: distinct serials, every one in a valid database. */
class ConcurrencyTest {

    @TempDir
    Path tmp;

    @Test
    void concurrentIssuesGetDistinctSerialsAndAllLandInTheDatabase() throws Exception {
        CaTestSupport t = new CaTestSupport(tmp);
        t.init().ok();
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<CaTestSupport.Result>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "user" + i;
            futures.add(pool.submit(() -> {
                start.await();
                return t.issueClient(name, "--grant", "tcp/22");
            }));
        }
        start.countDown();
        Set<String> serials = new HashSet<>();
        for (Future<CaTestSupport.Result> f : futures) {
            serials.add(CaTestSupport.serialOf(f.get().ok()));
        }
        pool.shutdown();
        assertThat(serials).hasSize(n);
        JsonNode rows = CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().json();
        assertThat(rows).hasSize(n);
        Set<String> listed = new HashSet<>();
        rows.forEach(r -> listed.add(r.get("serial").asText()));
        assertThat(listed).isEqualTo(serials);
    }
}
