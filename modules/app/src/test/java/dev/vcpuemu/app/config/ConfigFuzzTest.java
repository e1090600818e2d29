package dev.vcpuemu.app.config;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random damage to the topologies of {@code conf/} (a deleted line, a value of the wrong type
 * or out of range, broken syntax, an unknown era or enum, a stray key) never gets past the
 * loader as anything but a valid topology or one line of bad input naming the file and line,
 * and the key when there is one: no other exception (which the command line would turn into
 * a stack trace and exit 3).
 */
class ConfigFuzzTest {
    private static final Path CONF = Path.of(System.getProperty("vcpuemu.conf", "../../conf"));
    private static final List<Path> FILES;
    private static final List<String> VALUES = List.of("\"text\"", "-1", "0", "1e12", "99999999999999999999", "true",
            "[]", "{}", "[1, \"two\"]", "5 parsecs", "legacy-ish", "-5ms", "0.5", "NaN", "\"\"", "null", "2.5us",
            "{ x = 1 }", "[ { name = p } ]", "1.5", "off", "7d");
    private static final List<String> SYNTAX = List.of("{", "}", "= =", "[", "x = ", "\"", "a.b = {", "${nowhere}");
    /** file:line: message, optionally naming a key under vcpu-emu. */
    private static final Pattern ONE_LINE = Pattern.compile("[^\\n]+\\.conf:\\d+: [^\\n]+");

    static {
        try (Stream<Path> files = Files.walk(CONF)) {
            FILES = files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record Mutant(String name, String text, String how) {}

    @Provide
    Arbitrary<Mutant> mutants() {
        Arbitrary<Path> file = Arbitraries.of(FILES);
        Arbitrary<Integer> line = Arbitraries.integers().between(0, 10_000);
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 3);
        Arbitrary<String> value = Arbitraries.of(VALUES);
        Arbitrary<String> syntax = Arbitraries.of(SYNTAX);
        Arbitrary<String> word = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8);
        return Combinators.combine(file, line, kind, value, syntax, word).as(ConfigFuzzTest::mutate);
    }

    private static Mutant mutate(Path file, int at, int kind, String value, String syntax, String word) {
        List<String> lines;
        try {
            lines = new ArrayList<>(Files.readAllLines(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Integer> assignments = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("\\s*[a-z.-]+\\s*=\\s*[^{\\[].*")) {
                assignments.add(i);
            }
        }
        int i = at % lines.size();
        String how;
        switch (assignments.isEmpty() ? 0 : kind) {
            case 0 -> {
                how = "deleted line " + (i + 1) + ": " + lines.remove(i);
            }
            case 1 -> {
                int a = assignments.get(at % assignments.size());
                String key = lines.get(a).substring(0, lines.get(a).indexOf('='));
                lines.set(a, key + "= " + value);
                how = "line " + (a + 1) + " set to " + lines.get(a).strip();
            }
            case 2 -> {
                lines.add(i, syntax);
                how = "inserted '" + syntax + "' at line " + (i + 1);
            }
            default -> {
                int a = assignments.get(at % assignments.size());
                boolean enumLike = lines.get(a).contains("era") || lines.get(a).contains("distribution")
                        || lines.get(a).contains("pattern");
                if (enumLike) {
                    String key = lines.get(a).substring(0, lines.get(a).indexOf('='));
                    lines.set(a, key + "= " + word);
                    how = "line " + (a + 1) + " set to " + lines.get(a).strip();
                } else {
                    lines.add(a, "    " + word.toLowerCase() + " = 1");
                    how = "unknown key " + word.toLowerCase() + " inserted at line " + (a + 1);
                }
            }
        }
        return new Mutant(file.getFileName().toString(), String.join("\n", lines) + "\n", how);
    }

    @Property(tries = 400)
    void aDamagedTopologyIsValidOrOneLineOfBadInput(@ForAll("mutants") Mutant m) throws IOException {
        Path dir = Files.createTempDirectory("fuzz");
        Path f = dir.resolve(m.name());
        try {
            Files.writeString(f, m.text());
            try {
                new SettingsLoader().load(Optional.of(f), List.of());
                Statistics.collect("valid");
            } catch (ConfigProblem p) {
                Statistics.collect("bad input");
                String msg = p.getMessage();
                assertEquals(1, msg.lines().count(), m.how() + ": " + msg);
                assertTrue(msg.startsWith(f + ":"), m.how() + ": names the file: " + msg);
                assertTrue(ONE_LINE.matcher(msg).matches(), m.how() + ": file:line: message, got " + msg);
            }
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        }
        // Most damage must be caught: a loader that accepted everything would pass the checks above.
        Statistics.coverage(c -> c.check("bad input").percentage(p -> p > 50));
    }
}
