package dev.vcpuemu.app.config;

import com.typesafe.config.Config;
import dev.vcpuemu.model.settings.Settings;

import java.util.List;

/**
 * What {@link SettingsLoader#load} produced.
 *
 * @param settings the validated, typed settings of the run
 * @param config   the fully resolved configuration ({@code --set} over the topology file over
 *                 {@code ConfigFactory.load()}-style defaults, Pekko's reference included): build
 *                 the ActorSystem from it
 * @param source   {@value SettingsLoader#EMBEDDED} or the topology file's path as given
 * @param sets     the {@code --set key=value} arguments as given, in order
 */
public record LoadedSettings(Settings settings, Config config, String source, List<String> sets) {
    public LoadedSettings {
        sets = List.copyOf(sets);
    }
}
