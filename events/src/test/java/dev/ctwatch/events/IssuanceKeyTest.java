package dev.ctwatch.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IssuanceKeyTest {

    @Test
    void threeSpellingsOfOneSerialAreOneKey() {
        // the GTS 1D2 precert fixture: crt.sh, openssl and BigInteger.toString(16) spell it differently
        IssuanceKey crtSh = IssuanceKey.of(1, "009ca407e225f97cc20a00000000206ee5");
        IssuanceKey openssl = IssuanceKey.of(1, "9CA407E225F97CC20A00000000206EE5");
        IssuanceKey colons = IssuanceKey.of(1, "9c:a4:07:e2:25:f9:7c:c2:0a:00:00:00:00:20:6e:e5");
        assertThat(crtSh).isEqualTo(openssl).isEqualTo(colons);
        assertThat(crtSh.toString()).isEqualTo("1:9ca407e225f97cc20a00000000206ee5");
    }

    @Test
    void textFormRoundTrips() {
        IssuanceKey key = IssuanceKey.parse("16418:03ffeea57322e24cd6fd207682f59ead324f");
        assertThat(key.issuerCaId()).isEqualTo(16418);
        assertThat(IssuanceKey.parse(key.toString())).isEqualTo(key);
        assertThat(key.toString()).isEqualTo("16418:3ffeea57322e24cd6fd207682f59ead324f");
    }

    @Test
    void differentIssuersAreDifferentIssuances() {
        assertThat(IssuanceKey.of(1, "01")).isNotEqualTo(IssuanceKey.of(2, "01"));
    }

    @Test
    void malformedKeysAreRejectedWithTheirText() {
        assertThatThrownBy(() -> IssuanceKey.parse("16418")).hasMessageContaining("'16418'");
        assertThatThrownBy(() -> IssuanceKey.parse("abc:01")).hasMessageContaining("numeric issuer id");
        assertThatThrownBy(() -> IssuanceKey.of(1, "zz")).hasMessageContaining("'zz'");
        assertThatThrownBy(() -> IssuanceKey.of(1, "")).isInstanceOf(IllegalArgumentException.class);
    }
}
