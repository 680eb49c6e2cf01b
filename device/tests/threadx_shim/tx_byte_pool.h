/* Shim (tests only): the free-block marker of ThreadX' common/inc/tx_byte_pool.h. */
#ifndef TX_BYTE_POOL_H
#define TX_BYTE_POOL_H
#define TX_BYTE_BLOCK_FREE ((ALIGN_TYPE)0xFFFFEEEEUL)
#define TX_BYTE_BLOCK_MIN  ((ULONG)20)
#endif
