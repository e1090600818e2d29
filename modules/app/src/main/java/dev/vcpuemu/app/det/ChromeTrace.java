package dev.vcpuemu.app.det;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.vcpuemu.model.vcpu.EventSink;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.BitSet;

/**
 * Writes the vCPU events of a deterministic run as Chrome trace event JSON, which Perfetto and
 * chrome://tracing open: one track per vCPU, one instant per event, at its virtual time
 * ({@code ts} in microseconds), with the event's argument in hex. Streamed with Jackson into a
 * temporary file that {@link #close} moves into place, so a failed run leaves no half trace.
 */
public final class ChromeTrace implements EventSink, AutoCloseable {
    private final Path target;
    private final Path tmp;
    private final JsonGenerator json;
    private final BitSet named = new BitSet();
    private long events;

    public ChromeTrace(Path target) throws IOException {
        this.target = target;
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        this.tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
        this.json = new JsonFactory().createGenerator(tmp.toFile(), JsonEncoding.UTF8);
        json.writeStartObject();
        json.writeStringField("displayTimeUnit", "ns");
        json.writeArrayFieldStart("traceEvents");
        json.writeStartObject();
        json.writeStringField("name", "process_name");
        json.writeStringField("ph", "M");
        json.writeNumberField("pid", 1);
        json.writeObjectFieldStart("args");
        json.writeStringField("name", "vcpu-emu (virtual time)");
        json.writeEndObject();
        json.writeEndObject();
    }

    @Override
    public void event(int vcpu, long atNanos, String what, long arg) {
        try {
            if (!named.get(vcpu)) {
                named.set(vcpu);
                json.writeStartObject();
                json.writeStringField("name", "thread_name");
                json.writeStringField("ph", "M");
                json.writeNumberField("pid", 1);
                json.writeNumberField("tid", vcpu);
                json.writeObjectFieldStart("args");
                json.writeStringField("name", "vCPU " + vcpu);
                json.writeEndObject();
                json.writeEndObject();
            }
            json.writeStartObject();
            json.writeStringField("name", what);
            json.writeStringField("cat", what.equals(what.toUpperCase()) ? "finding" : "vcpu");
            json.writeStringField("ph", "i");
            json.writeStringField("s", "t");
            json.writeNumberField("ts", atNanos / 1000.0);
            json.writeNumberField("pid", 1);
            json.writeNumberField("tid", vcpu);
            json.writeObjectFieldStart("args");
            json.writeStringField("arg", "0x" + Long.toHexString(arg));
            json.writeEndObject();
            json.writeEndObject();
            events++;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A run that may write to a trace. */
    @FunctionalInterface
    public interface Traced<T> {
        T run(EventSink sink) throws InterruptedException;
    }

    /**
     * Runs {@code run} with a trace written to {@code file} (no trace when null): the file is
     * moved into place when the run returns, and left untouched when it throws.
     */
    public static <T> T writing(Path file, PrintWriter out, Traced<T> run) throws IOException, InterruptedException {
        if (file == null) {
            return run.run(null);
        }
        ChromeTrace trace = new ChromeTrace(file);
        T result;
        try {
            result = run.run(trace);
        } catch (RuntimeException | InterruptedException e) {
            trace.abandon();
            throw e;
        }
        trace.close();
        out.println("Trace: " + file + " (" + trace.events() + " events)");
        return result;
    }

    public long events() {
        return events;
    }

    /** Finishes the JSON and moves it into place. */
    @Override
    public void close() throws IOException {
        try {
            json.writeEndArray();
            json.writeEndObject();
            json.close();
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Drops the temporary file without touching the target (the run failed). */
    public void abandon() {
        try {
            json.close();
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // Nothing was written over the target; a stray temporary file is all that can remain.
        }
    }
}
