package dev.ctwatch.caa.dns;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The stored presentation form reads back to the same octets. */
class CaaPropertyTest {
    @ParameterizedTest
    @ValueSource(strings = {"letsencrypt.org", ";", "", "ca.test; x=a\"b\\c", "tab\there", "\u00ff\u0001end"})
    void presentationRoundTrips(String value) {
        CaaProperty property = new CaaProperty(128, "issue", value);

        assertThat(CaaProperty.parsePresentation(property.presentation())).isEqualTo(property);
    }
}
