package dev.vcpuemu.app.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The results store: a directory per run, {@code latest}, and an index rebuilt from the directories there are. */
class RunStoreTest {
    @TempDir
    Path tmp;

    private static RunStore.RunInfo info(String command, String topology) {
        return new RunStore.RunInfo(command, topology, "concurrent", 42L, "legacy", "interrupt",
                "vcpu-emu " + command + " " + topology, "vcpu-emu { run.seed = 42 }\n");
    }

    @Test
    void eachRunGetsItsOwnDirectoryWithWhatRanAndLatestPointsAtTheNewest() throws Exception {
        RunStore store = new RunStore(tmp.resolve("runs"));
        StoredRun first = store.start(info("run", "conf/no-nmi.conf"));
        StoredRun second = store.start(info("run", "conf/no-nmi.conf"));
        assertNotEquals(first.dir(), second.dir(), "two runs in the same second get two directories");
        assertTrue(first.name().matches("\\d{4}-\\d\\d-\\d\\d-\\d{6}-run-no-nmi"), first.name());
        assertEquals(first.name() + "-2", second.name());
        assertEquals("vcpu-emu run conf/no-nmi.conf\n", Files.readString(first.dir().resolve(RunStore.COMMAND)));
        assertEquals("vcpu-emu { run.seed = 42 }\n", Files.readString(first.dir().resolve(RunStore.CONFIG)));
        assertEquals(second.dir().toRealPath(), store.latest().toRealPath());
        assertEquals(second.report(), second.dir().resolve("report.json"));

        StoredRun embedded = store.start(info("soak", "(embedded default)"));
        assertTrue(embedded.name().endsWith("-soak-default"), embedded.name());
    }

    @Test
    void theIndexListsEveryRunWithItsOutcomeAndFindingsAndForgetsDeletedOnes() throws Exception {
        RunStore store = new RunStore(tmp.resolve("runs"));
        StoredRun ok = store.start(info("run", "a.conf"));
        Files.writeString(ok.report(), "{\"schema\":1,\"command\":\"run\",\"endReason\":\"duration\","
                + "\"findings\":{\"APF_WORD_STOLEN\":3,\"LOST_WAKEUP\":0}}");
        Files.writeString(ok.html(), "<html></html>");
        assertEquals(1, ok.finish(1), "finish returns the exit code");
        StoredRun gone = store.start(info("explore", "b.conf"));
        StoredRun running = store.start(info("replay", "c.conf"));

        String index = Files.readString(store.root().resolve(RunStore.INDEX));
        assertTrue(index.contains("expectations not met (duration)"), index);
        assertTrue(index.contains("APF_WORD_STOLEN 3") && !index.contains("LOST_WAKEUP"), index);
        assertTrue(index.contains("href=\"" + ok.name() + "/report.html\""), index);
        assertTrue(index.contains("href=\"" + ok.name() + "/report.json\""), index);
        assertTrue(index.contains("unfinished"), "a run not yet ended: " + index);
        assertTrue(index.contains(gone.name()) && index.contains("legacy/interrupt"), index);
        assertTrue(index.indexOf(running.name()) < index.indexOf(ok.name()), "newest first");

        for (Path f : Files.list(gone.dir()).toList()) {
            Files.delete(f);
        }
        Files.delete(gone.dir());
        running.finish(0);
        index = Files.readString(store.root().resolve(RunStore.INDEX));
        assertFalse(index.contains(gone.name()), "a deleted run leaves the index at the next rebuild");
        assertTrue(index.contains("does not fail"), "replay's exit 0: " + index);
        assertEquals(0, new ObjectMapper().readTree(running.dir().resolve(RunStore.META).toFile()).get("exitCode").asInt());
    }

    @Test
    void aFileTheUserNamedIsKeptInTheRunDirectoryToo() throws Exception {
        StoredRun run = new RunStore(tmp.resolve("runs")).start(info("run", "a.conf"));
        Path trace = tmp.resolve("t.json");
        Files.writeString(trace, "{\"traceEvents\":[]}");
        run.keep(trace, RunStore.TRACE);
        run.keep(tmp.resolve("never-written.json"), "other.json");
        assertEquals("{\"traceEvents\":[]}", Files.readString(run.dir().resolve(RunStore.TRACE)));
        assertFalse(Files.exists(run.dir().resolve("other.json")));
    }

    @Test
    void aPathEndingInASlashOrAnExistingDirectoryIsAStore() throws Exception {
        assertTrue(RunStore.isStore("runs/"));
        assertTrue(RunStore.isStore(tmp.toString()));
        assertFalse(RunStore.isStore("report.json"));
        assertFalse(RunStore.isStore(""));
    }

    @Test
    void latestAsATextFileIsFollowedLikeTheLink() throws Exception {
        RunStore store = new RunStore(tmp.resolve("runs"));
        StoredRun run = store.start(info("run", "a.conf"));
        Files.writeString(run.report(), "{\"schema\":1,\"command\":\"run\"}");
        Path latest = store.root().resolve(RunStore.LATEST);
        Files.delete(latest);
        Files.writeString(latest, run.name() + "\n");
        assertEquals(run.dir(), store.latest());
        assertEquals(run.report(), Comparison.locate("latest", store.root()));
        assertEquals(run.report(), Comparison.locate(latest.toString(), store.root()));
        assertEquals(run.report(), Comparison.locate(run.name(), store.root()), "a run directory's bare name");
        JsonNode r = Comparison.read(Comparison.locate(run.dir().toString(), store.root()));
        assertEquals("run", r.get("command").asText());
        assertEquals(List.of(run.name()), store.runs().stream().map(StoredRun::name).toList());
    }
}
