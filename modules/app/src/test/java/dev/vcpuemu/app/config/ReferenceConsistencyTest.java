package dev.vcpuemu.app.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** conf/default.conf and the configuration page stay in step with reference.conf. */
class ReferenceConsistencyTest {
    private static final String ROOT = SettingsLoader.ROOT;

    private static Config reference() {
        return ConfigFactory.defaultReference(ReferenceConsistencyTest.class.getClassLoader());
    }

    @Test
    void defaultConfSpellsOutEveryReferenceKeyWithTheSameValue() {
        Config defaultConf = ConfigFactory.parseFile(SettingsLoaderTest.confDir().resolve("default.conf").toFile());
        Map<String, Object> expected = reference().getConfig(ROOT).root().unwrapped();
        Map<String, Object> actual = defaultConf.getConfig(ROOT).root().unwrapped();
        assertEquals(expected, actual);
    }

    @Test
    void configurationPageNamesEveryKey() throws IOException {
        Path page = SettingsLoaderTest.confDir().getParent().resolve("src/site/markdown/configuration.md");
        String text = Files.readString(page);
        List<String> missing = new ArrayList<>();
        ConfigObject root = (ConfigObject) reference().root().get(ROOT);
        for (String block : root.keySet()) {
            ConfigObject b = (ConfigObject) root.get(block);
            assertTrue(text.contains("`" + ROOT + "." + block + "`"), "section for " + block);
            for (String key : leaves(b, "")) {
                if (!text.contains("`" + key + "`")) {
                    missing.add(ROOT + "." + block + "." + key);
                }
            }
        }
        assertEquals(List.of(), missing, "keys of reference.conf not documented in configuration.md");
    }

    private static List<String> leaves(ConfigObject o, String prefix) {
        List<String> out = new ArrayList<>();
        for (String key : o.keySet()) {
            ConfigValue v = o.get(key);
            String p = prefix + key;
            if (v instanceof ConfigObject && !((ConfigObject) v).isEmpty()) {
                out.addAll(leaves((ConfigObject) v, p + "."));
            } else {
                out.add(p);
            }
        }
        return out;
    }
}
