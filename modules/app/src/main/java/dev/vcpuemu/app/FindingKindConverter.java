package dev.vcpuemu.app;

import dev.vcpuemu.app.config.FindingKinds;
import dev.vcpuemu.model.finding.FindingKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --find KIND}: spelt as a topology's {@code expect} block accepts it ({@link FindingKinds}). */
final class FindingKindConverter implements ITypeConverter<FindingKind> {
    @Override
    public FindingKind convert(String value) {
        return FindingKinds.of(value).orElseThrow(() -> new TypeConversionException(
                "unknown finding kind '" + value + "'" + FindingKinds.hint(value)));
    }
}
