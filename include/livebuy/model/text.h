/* Text fields of the model: fixed buffers sized from their schema columns. */
#ifndef LIVEBUY_MODEL_TEXT_H
#define LIVEBUY_MODEL_TEXT_H

/* Bytes for a VARCHAR(n) of utf8mb4 text, plus the NUL. */
#define LB_TEXT_SIZE(chars) ((chars)*4 + 1)

#endif
