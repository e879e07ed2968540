// The kernels the BERT forward pass calls (src/kernels), in one include.
#pragma once

#include "kernels/attention.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
