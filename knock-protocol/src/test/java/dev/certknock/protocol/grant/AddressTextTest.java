package dev.certknock.protocol.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one address formatter: the text nft, ipset and iptables print (RFC 5952), checked case by case. */
class AddressTextTest {

    @ParameterizedTest
    @CsvSource({
        "198.51.100.7, 198.51.100.7",
        "198.51.100.255, 198.51.100.255",
        "0.0.0.0, 0.0.0.0",
        "::1, ::1",
        "::, ::",
        "2001:DB8:0:0:0:0:0:7, 2001:db8::7",
        "2001:0db8:0000:0000:0001:0000:0000:0001, 2001:db8::1:0:0:1",
        "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:0:0:1:0:0:0, 2001:db8:0:0:1::",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "1:0:0:2:0:0:0:3, 1:0:0:2::3",
        "fe80:0:0:0:0:0:0:0, fe80::",
        "0:0:0:0:0:0:0:1, ::1",
        "::ffff:0:1.2.3.4, ::ffff:0:102:304",
    })
    void formatsAsTheKernelToolsPrint(String in, String out) throws Exception {
        assertThat(AddressText.format(InetAddress.getByName(in))).isEqualTo(out);
        assertThat(InetAddress.getByName(out)).isEqualTo(InetAddress.getByName(in));
    }

    @Test
    void refusesAnythingButFourOrSixteenBytes() {
        assertThatThrownBy(() -> AddressText.format(new byte[5])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("5");
    }
}
