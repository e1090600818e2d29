package dev.vcpuemu.app.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOriginFactory;

import java.io.File;
import java.net.URL;

/**
 * HOCON's {@code include} of something that does not exist is silently empty, so a typo in an
 * include path would run the defaults in its place. A topology's includes are required: each
 * form of include goes to the library's own includer with missing sources not allowed, which
 * makes a missing one a parse error that names the file and line of the {@code include}.
 */
final class RequiredIncluder implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {
    private final ConfigIncluder fallback;

    RequiredIncluder() {
        this(null);
    }

    private RequiredIncluder(ConfigIncluder fallback) {
        this.fallback = fallback;
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder f) {
        return fallback == null ? new RequiredIncluder(f) : this;
    }

    private static ConfigIncludeContext required(ConfigIncludeContext context) {
        return context.setParseOptions(context.parseOptions().setAllowMissing(false));
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
        try {
            return fallback.include(required(context), what);
        } catch (ConfigException.IO e) {
            // The plain form looks for a file beside the including one, then on the class path, and
            // reports only the last place it looked: say both.
            throw new ConfigException.IO(ConfigOriginFactory.newSimple("include \"" + what + "\""),
                    "not found (neither a file beside the including file nor a class path resource)");
        }
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, File what) {
        return ((ConfigIncluderFile) fallback).includeFile(required(context), what);
    }

    @Override
    public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
        return ((ConfigIncluderURL) fallback).includeURL(required(context), what);
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
        return ((ConfigIncluderClasspath) fallback).includeResources(required(context), what);
    }
}
