//! Redis Cluster slots: `CRC16-XMODEM(hash tag or key) mod 16384`.

/// Number of Redis Cluster hash slots.
pub const SLOT_COUNT: u16 = 16384;

/// A Redis Cluster hash slot, always `< 16384`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(u16);

impl Slot {
    /// A slot from a number, `None` when out of range.
    pub fn new(n: u16) -> Option<Slot> {
        (n < SLOT_COUNT).then_some(Slot(n))
    }

    /// The slot of already tag-extracted bytes.
    pub fn of(hashed: &[u8]) -> Slot {
        Slot(crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOT_COUNT)
    }

    /// The slot number.
    pub fn get(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_xmodem_check_value_and_known_slots() {
        assert_eq!(
            crc16::State::<crc16::XMODEM>::calculate(b"123456789"),
            0x31C3
        );
        // `CLUSTER KEYSLOT foo` = 12182, `CLUSTER KEYSLOT bar` = 5061.
        assert_eq!(Slot::of(b"foo").get(), 12182);
        assert_eq!(Slot::of(b"bar").get(), 5061);
        assert!(Slot::new(16384).is_none());
    }
}
